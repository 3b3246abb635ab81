/**
 * Integration: two workers in one group share the partitions; stopping one moves its
 * partitions to the other, with nothing lost.
 */
import assert from "node:assert/strict";
import { sharedStack } from "../stack/harness.ts";
import { setupPipeline } from "../testing/pipeline.ts";
import { complaints, type RunningProgram, startProgram } from "../testing/program.ts";
import { testEvent, testUser, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";

type Log = Record<string, unknown>;
const partitionsOf = (l: Log) =>
  Object.values((l.assigned ?? {}) as Record<string, number[]>).flat().length;

Deno.test("two workers share the partitions, and a stopped one hands its partitions over", async () => {
  const p = await setupPipeline(await sharedStack(), "w_group", 6);
  const workers: RunningProgram[] = [];
  try {
    const t0 = Date.parse("2026-05-01T00:00:00.000Z");
    const batch = (from: number, n: number) =>
      Array.from(
        { length: n },
        (_, i) => toMessage(testEvent(testUser(from + i, "0003"), new Date(t0))),
      );
    const env = { ...p.workerEnv, WORKER_SESSION_TIMEOUT_MS: "10000" };
    const a = await startProgram("worker", env);
    workers.push(a);
    await a.waitForLog((l) => l.msg === "joined group" && partitionsOf(l) === 6, 60_000, "A alone");
    await p.kafka.produce(p.topic, batch(0, 3_000));

    const b = await startProgram("worker", env);
    workers.push(b);
    await b.waitForLog((l) => l.msg === "joined group", 60_000, "B to join");
    await waitUntil(
      () => {
        const lastA = a.logs.findLast((l) => l.msg === "joined group");
        const lastB = b.logs.findLast((l) => l.msg === "joined group");
        return !!lastA && !!lastB && partitionsOf(lastA) + partitionsOf(lastB) === 6 &&
          partitionsOf(lastB) > 0 && partitionsOf(lastA) > 0;
      },
      60_000,
      "the partitions to be shared between A and B",
    );
    await p.kafka.produce(p.topic, batch(3_000, 3_000));
    await waitUntil(async () => (await p.count()) === 6_000, 60_000, "6,000 rows from both");

    // Stop A while events keep coming: B takes all partitions and nothing is lost.
    const producing = p.kafka.produce(p.topic, batch(6_000, 6_000));
    const status = await a.stop("SIGTERM");
    assert.equal(status.code, 0, "A leaves cleanly");
    await producing;
    await b.waitForLog(
      (l) => l.msg === "joined group" && partitionsOf(l) === 6,
      60_000,
      "B to own every partition",
    );
    await waitUntil(
      async () => (await p.count()) === 12_000 && (await p.caughtUp()),
      90_000,
      "12,000 rows and every offset committed",
    ).catch(async (err) => {
      // Say where it stood, and what B was doing.
      const tail = b.logs.slice(-15).map((l) => JSON.stringify(l)).join("\n");
      throw new Error(
        `${err.message}: ${await p.count()} rows, caught up: ${await p.caughtUp()}; B:\n${tail}`,
        { cause: err },
      );
    });
    const [row] = await p.sql.unsafe(
      `select count(distinct id)::int as n from ${p.schema}.users`,
    );
    assert.equal(row!.n, 12_000);
    assert.equal((await b.stop("SIGTERM")).code, 0);
    // Joining, a rebalance and leaving are routine: nothing at warn or error.
    for (const [name, w] of [["A", a], ["B", b]] as const) {
      const noisy = complaints(w.logs);
      assert.deepEqual(
        noisy,
        [],
        `worker ${name} logged nothing at warn or error: ${JSON.stringify(noisy)}`,
      );
    }
  } finally {
    for (const w of workers) await w.stop("SIGKILL");
    await p.close();
  }
});
