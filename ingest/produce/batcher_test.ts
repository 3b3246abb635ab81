import assert from "node:assert/strict";
import { type BatcherOptions, createBatcher } from "./batcher.ts";
import type { OutgoingMessage } from "./port.ts";
import { ProduceError } from "./produce_error.ts";
import { FakeProducer } from "../../testing/fakes.ts";
import { waitUntil } from "../../testing/wait.ts";

const OPTS: BatcherOptions = {
  lingerMs: 5,
  maxBatchMessages: 100,
  maxBatchBytes: 1_000_000,
  maxBufferBytes: 10_000,
  ackTimeoutMs: 5_000,
};

const msg = (key: string, size = 10): OutgoingMessage => ({
  key,
  value: new Uint8Array(size),
});

async function rejectsWith(p: Promise<unknown>, reason: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ProduceError, `expected ProduceError, got ${err}`);
    assert.equal(err.reason, reason);
    return true;
  });
}

Deno.test("createBatcher() sends concurrent callers' messages in one send", async () => {
  const producer = new FakeProducer();
  const batcher = createBatcher(producer, OPTS);
  await Promise.all([
    batcher.enqueue([msg("a")]),
    batcher.enqueue([msg("b"), msg("c")]),
    batcher.enqueue([msg("d")]),
  ]);
  assert.deepEqual(producer.sends.map((s) => s.map((m) => m.key)), [["a", "b", "c", "d"]]);
  await batcher.close();
});

Deno.test("createBatcher() resolves a caller only after its messages are acknowledged", async () => {
  const producer = new FakeProducer();
  const gate = Promise.withResolvers<void>();
  producer.hold = gate.promise;
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 0 });
  let done = false;
  const p = batcher.enqueue([msg("a")]).then(() => done = true);
  assert.equal(producer.sends.length, 1, "sent at once with lingerMs 0");
  assert.equal(done, false, "not resolved before the acknowledgement");
  gate.resolve();
  await p;
  assert.equal(done, true);
  await batcher.close();
});

Deno.test("createBatcher() splits at maxBatchMessages and sends the rest after the first ack", async () => {
  const producer = new FakeProducer();
  const batcher = createBatcher(producer, { ...OPTS, maxBatchMessages: 3 });
  const keys = ["a", "b", "c", "d", "e", "f", "g"];
  await batcher.enqueue(keys.map((k) => msg(k)));
  assert.deepEqual(producer.sends.map((s) => s.map((m) => m.key)), [
    ["a", "b", "c"],
    ["d", "e", "f"],
    ["g"],
  ]);
  await batcher.close();
});

Deno.test("createBatcher() rejects every caller of a failed send with kafka_unavailable", async () => {
  const producer = new FakeProducer();
  producer.fail = new Error("broker down");
  const batcher = createBatcher(producer, OPTS);
  const results = await Promise.allSettled([
    batcher.enqueue([msg("a")]),
    batcher.enqueue([msg("b")]),
  ]);
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.ok(r.reason instanceof ProduceError);
    assert.equal(r.reason.reason, "kafka_unavailable");
    assert.match(r.reason.message, /broker down/);
  }
  assert.equal(batcher.stats().lastSendOk, false);
  assert.equal(batcher.stats().bufferedBytes, 0, "the failed messages' room is given back");
  await batcher.close();
});

Deno.test("createBatcher() refuses messages that do not fit in the buffer, without queuing them", async () => {
  const producer = new FakeProducer();
  const gate = Promise.withResolvers<void>();
  producer.hold = gate.promise;
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 0, maxBufferBytes: 200 });
  const first = batcher.enqueue([msg("a", 150)]);
  await rejectsWith(batcher.enqueue([msg("b", 100)]), "buffer_full");
  assert.equal(batcher.stats().queuedMessages, 0);
  gate.resolve();
  await first;
  await batcher.enqueue([msg("c", 100)]);
  assert.deepEqual(producer.messages.map((m) => m.key), ["a", "c"]);
  await batcher.close();
});

Deno.test("createBatcher() times out a caller and never sends its queued messages", async () => {
  const producer = new FakeProducer();
  const gate = Promise.withResolvers<void>();
  producer.hold = gate.promise;
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 0, ackTimeoutMs: 100 });
  const first = batcher.enqueue([msg("a")]);
  const second = batcher.enqueue([msg("b")]); // queued behind the stuck send
  await rejectsWith(first, "timeout");
  await rejectsWith(second, "timeout");
  // Once the send is stuck for longer than the timeout, new callers are refused at once.
  await waitUntil(() => batcher.stats().stalled, 5_000, "the batcher to notice the stuck send");
  await rejectsWith(batcher.enqueue([msg("c")]), "kafka_unavailable");
  gate.resolve();
  await batcher.flush();
  assert.deepEqual(producer.messages.map((m) => m.key), ["a"], "b was dropped from the queue");
  await batcher.enqueue([msg("d")]);
  assert.deepEqual(producer.messages.map((m) => m.key), ["a", "d"], "recovered");
  await batcher.close();
});

Deno.test("createBatcher() flushes queued messages on close and then refuses new ones", async () => {
  const producer = new FakeProducer();
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 1000 });
  const p = batcher.enqueue([msg("a")]);
  await batcher.close();
  await p;
  assert.deepEqual(producer.messages.map((m) => m.key), ["a"]);
  await rejectsWith(batcher.enqueue([msg("b")]), "shutting_down");
});

Deno.test("createBatcher() reports each send to its observer", async () => {
  const producer = new FakeProducer();
  const seen: [number, boolean][] = [];
  const batcher = createBatcher(producer, OPTS, {
    observer: { batchSent: (n, _b, _s, ok) => seen.push([n, ok]) },
  });
  await batcher.enqueue([msg("a"), msg("b")]);
  assert.deepEqual(seen, [[2, true]]);
  await batcher.close();
});
