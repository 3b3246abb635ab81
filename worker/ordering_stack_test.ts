/**
 * Integration: the newer event wins within a batch and across batches; an older replay and a
 * re-delivered event change nothing (not even `updated_at`).
 */
import assert from "node:assert/strict";
import { sharedStack } from "../stack/harness.ts";
import { setupPipeline } from "../testing/pipeline.ts";
import { type RunningProgram, startProgram } from "../testing/program.ts";
import { testEvent, testUser, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";

Deno.test("ordering: newer wins in a batch and across batches, older replays change nothing", async () => {
  const p = await setupPipeline(await sharedStack(), "w_order", 2);
  let worker: RunningProgram | undefined;
  try {
    const t0 = Date.parse("2026-02-01T00:00:00.000Z");
    const v = (i: number, name: string, at: number) =>
      testEvent(testUser(i, "0001", { first_name: name }), new Date(t0 + at));
    // One batch (produced before the worker starts): id 1 in order, id 2 out of order.
    const a1 = v(1, "A1-old", 0);
    const b1 = v(1, "B1-new", 1_000);
    const b2 = v(2, "B2-new", 1_000);
    const a2 = v(2, "A2-old", 0);
    await p.kafka.produce(p.topic, [a1, b1, b2, a2].map(toMessage));

    worker = await startProgram("worker", p.workerEnv);
    await waitUntil(() => p.caughtUp(), 60_000, "the first batch to be committed");
    const names = async () =>
      Object.fromEntries(
        (await p.sql.unsafe(`select id, first_name from ${p.schema}.users`)).map((
          r,
        ) => [r.id, r.first_name]),
      );
    assert.deepEqual(await names(), {
      [b1.user.id]: "B1-new",
      [b2.user.id]: "B2-new",
    });
    const before = await p.sql.unsafe(`select * from ${p.schema}.users order by id`);

    // Across batches: an older replay of both ids and a re-delivery of the current events.
    await p.kafka.produce(p.topic, [a1, a2, b1, b2].map(toMessage));
    await waitUntil(() => p.caughtUp(), 60_000, "the replays to be committed");
    const after = await p.sql.unsafe(`select * from ${p.schema}.users order by id`);
    assert.deepEqual(after, before, "older and repeated events changed nothing at all");
    // Each record that lost to a newer one is counted once, wherever it lost: in its batch
    // (superseded) or against the stored row (stale). a1 and a2 lost in the first batch (or
    // against the row, had the batch been cut); all four replays lose.
    const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
    const counter = (name: string) =>
      Number(new RegExp(`^${name} (\\d+)$`, "m").exec(metrics)?.[1]);
    assert.equal(
      counter("worker_records_superseded_total") + counter("worker_rows_stale_total"),
      6,
      metrics,
    );
    assert.ok(counter("worker_rows_stale_total") >= 2, "at least b1 and b2 again are stale");

    // A newer event in a later batch does win, and keeps date_added.
    const c1 = v(1, "C1-newest", 2_000);
    await p.kafka.produce(p.topic, [c1].map(toMessage));
    await waitUntil(async () => (await names())[c1.user.id] === "C1-newest", 60_000, "C1 to win");
    const [row] = await p.sql.unsafe(
      `select date_added, updated_at, event_id, event_time from ${p.schema}.users where id = $1`,
      [c1.user.id],
    );
    const old = before.find((r) => r.id === c1.user.id)!;
    assert.deepEqual(row!.date_added, old.date_added, "date_added never changes");
    assert.ok(row!.updated_at > old.updated_at, "updated_at follows the write");
    assert.equal(row!.event_id, c1.event_id);
    assert.equal(row!.event_time.toISOString(), c1.accepted_at);

    assert.equal((await worker.stop("SIGTERM")).code, 0);
    worker = undefined;
  } finally {
    await worker?.stop("SIGKILL");
    await p.close();
  }
});
