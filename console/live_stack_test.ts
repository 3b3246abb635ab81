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

Deno.test("the console shows the workers' lag in records and seconds, then 0 once a real worker caught up", async () => {
  const stack = await sharedStack();
  const p = await setupPipeline(stack, "c_lag", 2);
  const reader = createPartitionReader(p.kafka.connection);
  const consoleEnv = {
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    KAFKA_TOPIC: p.topic,
    KAFKA_DLQ_TOPIC: p.dlq,
    KAFKA_GROUP_ID: p.groupId,
    CONSOLE_POLL_MS: "200",
  };
  // Nothing listens on port 9 of 127.0.0.1 (discard): an instance that does not answer.
  let console = await startProgram("console", {
    ...consoleEnv,
    CONSOLE_WORKER_URLS: "http://127.0.0.1:9",
  });
  let worker: Awaited<ReturnType<typeof startProgram>> | undefined;
  const latest = async () =>
    ((await (await fetch(`http://127.0.0.1:${console.port}/api/snapshot`)).json()) as {
      latest: Snapshot | null;
    }).latest;
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

    worker = await startProgram("worker", p.workerEnv);
    await console.stop();
    console = await startProgram("console", {
      ...consoleEnv,
      CONSOLE_WORKER_URLS: `http://127.0.0.1:${worker.port}`,
    });
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
    const res = await fetch(`http://127.0.0.1:${console.port}/api/live`);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const body = res.body!.getReader();
    let text = "";
    for (let i = 0; i < 1_000 && !text.includes("event: snapshot"); i++) {
      const { value, done } = await body.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.match(text, /^event: hello\ndata: \{"history":\[/);
    // A page still open when the console stops does not hold it up.
    assert.equal((await console.stop()).code, 0, "the console stops cleanly on SIGTERM");
    let ended = false;
    for (let i = 0; i < 1_000 && !ended; i++) ended = (await body.read()).done;
    assert.ok(ended, "the event stream ended with the console");
  } finally {
    await worker?.stop();
    await console.stop();
    await reader.close();
    await p.close();
  }
});
