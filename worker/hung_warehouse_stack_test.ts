/**
 * Integration: the worker's connection to PostgreSQL goes silent mid-stream (a relay in front
 * of the shared stack's PostgreSQL swallows every byte and answers nothing, as a blackholed
 * path or Toxiproxy's `timeout` toxic does). `/readyz` names the hung write, the write is
 * abandoned at `WAREHOUSE_WRITE_TIMEOUT_MS` (which `/readyz` then names) and retried, nothing
 * is committed meanwhile, and once the path heals the rows arrive on a new connection: the
 * swallowed write itself would never have been answered.
 */
import assert from "node:assert/strict";
import { sharedStack } from "../stack/harness.ts";
import { type Pipeline, setupPipeline } from "../testing/pipeline.ts";
import { type RunningProgram, startProgram, withLogTail } from "../testing/program.ts";
import { startTcpRelay, type TcpRelay } from "../testing/tcp_relay.ts";
import { testEvent, testUser, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";

Deno.test("a silent warehouse connection: /readyz names the hung write, which is retried on a new connection once the path heals", async () => {
  const stack = await sharedStack();
  let p: Pipeline | undefined;
  let relay: TcpRelay | undefined;
  let worker: RunningProgram | undefined;
  try {
    p = await setupPipeline(stack, "w_hang", 2);
    const pipeline = p;
    const pg = new URL(stack.WAREHOUSE_URL);
    relay = startTcpRelay({ hostname: pg.hostname, port: Number(pg.port) });
    const relayed = new URL(stack.WAREHOUSE_URL);
    relayed.port = String(relay.port);
    const t0 = Date.parse("2026-06-01T00:00:00.000Z");
    const batch = (from: number, n: number) =>
      Array.from(
        { length: n },
        (_, i) => toMessage(testEvent(testUser(from + i, "0012"), new Date(t0 + from + i))),
      );

    worker = await startProgram("worker", {
      ...p.workerEnv,
      WAREHOUSE_URL: relayed.href,
      WAREHOUSE_WRITE_TIMEOUT_MS: "4000",
      WORKER_RETRY_MIN_MS: "100",
      WORKER_RETRY_MAX_MS: "500",
    });
    const ops = `http://127.0.0.1:${worker.port}`;
    await p.kafka.produce(p.topic, batch(0, 200));
    await waitUntil(
      async () => (await pipeline.count()) === 200 && (await pipeline.caughtUp()),
      60_000,
      "200 rows and their offsets before the path goes silent",
    );

    relay.swallow("both");
    await p.kafka.produce(p.topic, batch(200, 200));
    let readyz: { status: number; body: { ok?: boolean; problem?: string } } | undefined;
    await waitUntil(
      async () => {
        const res = await fetch(`${ops}/readyz`);
        readyz = { status: res.status, body: await res.json() };
        return /^warehouse write in progress for \d+ s$/.test(readyz.body.problem ?? "");
      },
      30_000,
      "/readyz to name the hung write",
      { intervalMs: 100 },
    );
    assert.equal(readyz?.status, 503, JSON.stringify(readyz));
    assert.equal(readyz?.body.ok, false);
    const health = await fetch(`${ops}/healthz`);
    assert.equal(health.status, 200, "liveness is not readiness: the deadline ends the hang");
    await health.body?.cancel();

    const abandoned = await worker.waitForLog(
      (l) =>
        l.msg === "write failed, retrying later" &&
        /did not finish within 4000 ms/.test(String(l.error)),
      30_000,
      "the hung write to be abandoned at its deadline",
    );
    assert.equal(abandoned.errorName, "WriteError");
    // Between a failed attempt and half of the next one's deadline, `/readyz` says what failed.
    await waitUntil(
      async () => {
        const res = await fetch(`${ops}/readyz`);
        readyz = { status: res.status, body: await res.json() };
        return readyz.body.problem !== undefined &&
          !/^warehouse write in progress/.test(readyz.body.problem);
      },
      30_000,
      "/readyz to say why the last write failed",
      { intervalMs: 50 },
    );
    assert.deepEqual(readyz, {
      status: 503,
      body: {
        ok: false,
        problem:
          "the last warehouse write failed: did not finish within 4000 ms (WAREHOUSE_WRITE_TIMEOUT_MS)",
      },
    });
    assert.equal(await pipeline.count(), 200, "nothing of the swallowed write was applied");
    assert.equal(await pipeline.caughtUp(), false, "and no offset of it was committed");

    relay.heal();
    await waitUntil(
      async () => (await pipeline.count()) === 400 && (await pipeline.caughtUp()),
      60_000,
      "the 200 rows written after the path healed, and their offsets committed",
    );
    await waitUntil(
      async () => {
        const res = await fetch(`${ops}/readyz`);
        await res.body?.cancel();
        return res.status === 200;
      },
      30_000,
      "/readyz to be 200 again",
    );
    assert.equal(worker.logs.some((l) => l.msg === "stopping"), false, "the worker never exited");
    const dlqEnds = await p.admin.endOffsets(p.dlq);
    assert.deepEqual(dlqEnds, dlqEnds.map(() => 0n), "nothing dead-lettered");
    assert.equal((await worker.stop("SIGTERM")).code, 0);
    worker = undefined;
  } catch (err) {
    throw withLogTail(err, worker);
  } finally {
    await worker?.stop("SIGKILL");
    await relay?.close();
    await p?.close();
  }
});
