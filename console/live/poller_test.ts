import assert from "node:assert/strict";
import { silentLogger } from "../../shared/logger.ts";
import { sseResponse } from "../http/sse.ts";
import { createPoller } from "./poller.ts";
import type { Snapshot } from "./snapshot.ts";
import { snapshotAt } from "./snapshot_fixture.ts";

/** Reads SSE messages from `body` until `count` arrived. */
async function readEvents(body: ReadableStream<Uint8Array>, count: number) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const events: { event: string; data: unknown }[] = [];
  while (events.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let end;
    while ((end = text.indexOf("\n\n")) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)![1]!;
      events.push({ event, data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) });
    }
  }
  await reader.cancel();
  return events;
}

Deno.test("one poller feeds every open page: ten streams, one sample per tick", async () => {
  let samples = 0;
  const poller = createPoller({
    sample: () => Promise.resolve(snapshotAt(++samples * 1000)),
    intervalMs: 1000,
    historySize: 2,
    logger: silentLogger,
  });
  await poller.tick();
  const pages = Array.from({ length: 10 }, () => sseResponse(poller));
  assert.equal(poller.listeners(), 10);
  await poller.tick();
  await poller.tick();
  assert.equal(samples, 3, "the number of pages does not multiply sampling");
  for (const page of pages) {
    const events = await readEvents(page.body!, 3);
    assert.deepEqual(events.map((e) => e.event), ["hello", "snapshot", "snapshot"]);
    const hello = events[0]!.data as { history: { time: number }[]; latest: Snapshot };
    assert.deepEqual(hello.history.map((p) => p.time), [1000]);
    assert.equal(hello.latest.time, 1000);
    assert.deepEqual(events.slice(1).map((e) => (e.data as Snapshot).time), [2000, 3000]);
    assert.equal(page.headers.get("content-type"), "text/event-stream; charset=utf-8");
  }
  assert.equal(poller.listeners(), 0, "a page that goes away stops listening");
  assert.deepEqual(poller.history().map((p) => p.time), [2000, 3000], "history is bounded");
  assert.equal(poller.history()[0]!.lagRecords, 2);
});

Deno.test("a failed sample is skipped, and a page that stops reading is dropped", async () => {
  let fail = true;
  let n = 0;
  const poller = createPoller({
    sample: () => (fail ? Promise.reject(new Error("down")) : Promise.resolve(snapshotAt(++n))),
    intervalMs: 1000,
    historySize: 100,
    logger: silentLogger,
  });
  await poller.tick();
  assert.equal(poller.latest(), undefined);
  fail = false;
  const stalled = sseResponse(poller); // never read
  for (let i = 0; i < 40; i++) await poller.tick();
  assert.equal(poller.listeners(), 0, "dropped after 30 unread snapshots");
  await stalled.body!.cancel();
});
