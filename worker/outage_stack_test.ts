/**
 * Integration (private stack): PostgreSQL stops mid-stream and starts again; the worker keeps
 * its group membership, retries by itself, dead-letters nothing, and the table ends complete.
 */
import assert from "node:assert/strict";
import { privateStack } from "../stack/harness.ts";
import { type Pipeline, setupPipeline } from "../testing/pipeline.ts";
import { type RunningProgram, startProgram, withLogTail } from "../testing/program.ts";
import { testEvent, testUser, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";

Deno.test("warehouse outage: the worker recovers alone and the table is complete", async () => {
  const stack = await privateStack({ prefix: "w_outage" });
  let p: Pipeline | undefined;
  let worker: RunningProgram | undefined;
  try {
    p = await setupPipeline(stack.env, "w_outage", 3);
    const pipeline = p;
    const t0 = Date.parse("2026-06-01T00:00:00.000Z");
    const batch = (from: number, n: number) =>
      Array.from(
        { length: n },
        (_, i) => toMessage(testEvent(testUser(from + i, "0004"), new Date(t0 + from + i))),
      );
    // Errors while PostgreSQL is down are expected: count() reports -1 then.
    const count = () => pipeline.count().catch(() => -1);

    worker = await startProgram("worker", {
      ...p.workerEnv,
      WORKER_RETRY_MIN_MS: "100",
      WORKER_RETRY_MAX_MS: "1000",
    });
    await p.kafka.produce(p.topic, batch(0, 2_000));
    await waitUntil(async () => (await count()) === 2_000, 60_000, "2,000 rows before the outage");

    await stack.stopPostgres("fast");
    await p.kafka.produce(p.topic, batch(2_000, 2_000));
    await worker.waitForLog(
      (l) => l.msg === "write failed, retrying later",
      60_000,
      "the worker to notice the outage",
    );
    await stack.startPostgres();
    await p.kafka.produce(p.topic, batch(4_000, 2_000));

    await waitUntil(
      async () => (await count()) === 6_000 && (await pipeline.caughtUp()),
      120_000,
      "6,000 rows and every offset committed after the outage",
    );
    assert.equal(worker.logs.some((l) => l.msg === "stopping"), false, "the worker never exited");
    const dlqEnds = await p.admin.endOffsets(p.dlq);
    assert.deepEqual(dlqEnds, dlqEnds.map(() => 0n), "nothing dead-lettered");
    const port = worker.port;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^worker_warehouse_errors_total\{kind="retry"\} [1-9]/m);
    assert.equal((await worker.stop("SIGTERM")).code, 0);
    worker = undefined;
  } catch (err) {
    // The worker's own account of the outage, for whoever reads a failure.
    throw withLogTail(err, worker, 40);
  } finally {
    await worker?.stop("SIGKILL");
    await p?.close();
    await stack.stop();
  }
});
