/**
 * The console against the real stack: the lag of a real group in records and seconds, from the
 * record at the committed offset, a real worker's readiness, and the live event stream.
 */
import assert from "node:assert/strict";
import { createPartitionReader } from "../shared/kafka/partition_reader.ts";
import { sharedStack } from "../stack/harness.ts";
import { setupPipeline } from "../testing/pipeline.ts";
import { startProgram } from "../testing/program.ts";
import { seededEvent, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";
import type { Snapshot } from "./live/snapshot.ts";

/** A port nobody listens on right now (for a program started after the console). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("the console shows the workers' lag in records and seconds, then 0 once a real worker caught up", async () => {
  const stack = await sharedStack();
  const p = await setupPipeline(stack, "c_lag", 2);
  const reader = createPartitionReader(p.kafka.connection);
  const workerPort = freePort();
  const console = await startProgram("console", {
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    KAFKA_TOPIC: p.topic,
    KAFKA_DLQ_TOPIC: p.dlq,
    KAFKA_GROUP_ID: p.groupId,
    CONSOLE_WORKER_URLS: `http://127.0.0.1:${workerPort}`,
    CONSOLE_POLL_MS: "200",
  });
  let worker: Awaited<ReturnType<typeof startProgram>> | undefined;
  const base = `http://127.0.0.1:${console.port}`;
  const latest = async () =>
    ((await (await fetch(`${base}/api/snapshot`)).json()) as { latest: Snapshot | null }).latest;
  try {
    await p.kafka.produce(
      p.topic,
      Array.from({ length: 20 }, (_, i) => toMessage(seededEvent(i, "c1a90000"))),
    );
    const ends = await p.admin.endOffsets(p.topic);
    // The group has committed 2 records of each partition: the record at offset 2 waits.
    await p.admin.setCommittedOffsets(p.groupId, p.topic, new Map(ends.map((_, i) => [i, 2n])));
    let snapshot: Snapshot | null = null;
    await waitUntil(
      async () => {
        snapshot = await latest();
        return snapshot?.lag.every((l) => l.committed === "2") ?? false;
      },
      30_000,
      "the console to see the committed offsets",
    );
    const s = snapshot!;
    for (const lag of s.lag) {
      const end = ends[lag.partition]!;
      assert.equal(lag.end, String(end));
      assert.equal(lag.records, Number(end) - 2);
      const [waiting] = await reader.read(p.topic, lag.partition, 2n, { maxRecords: 1 });
      assert.equal(lag.seconds, (s.time - waiting!.timestamp) / 1000, `partition ${lag.partition}`);
    }
    assert.deepEqual(s.instances.map((i) => [i.kind, i.up, i.ready]), [["worker", false, false]]);
    assert.match(s.instances[0]!.reason!, /^no answer/);

    worker = await startProgram("worker", { ...p.workerEnv, WORKER_PORT: String(workerPort) });
    await waitUntil(
      async () => {
        const now = await latest();
        return !!now && now.lag.every((l) => l.records === 0 && l.seconds === 0) &&
          now.instances[0]!.ready;
      },
      60_000,
      "lag 0 and a ready worker",
    );
    assert.equal(await p.count(), 20 - 2 * 2, "the worker started at the committed offsets");

    // The event stream: the history first, then snapshots.
    const res = await fetch(`${base}/api/live`);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const body = res.body!.getReader();
    let text = "";
    while (!text.includes("event: snapshot")) {
      const { value, done } = await body.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await body.cancel();
    assert.match(text, /^event: hello\ndata: \{"history":\[/);
  } finally {
    await worker?.stop();
    const status = await console.stop();
    assert.equal(status.code, 0, "the console stops cleanly on SIGTERM");
    await reader.close();
    await p.close();
  }
});
