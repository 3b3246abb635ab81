/**
 * Integration: SIGKILL the worker in the middle of a stream of many thousands of events and
 * restart it: one row per distinct id, none missing, every row from its newest event, and the
 * rows written before the kill untouched by the re-delivery that follows (the group is rewound
 * to the start after the kill, so everything written before it is delivered again).
 */
import assert from "node:assert/strict";
import { sharedStack } from "../stack/harness.ts";
import type { UserEvent } from "../shared/event.ts";
import { setupPipeline } from "../testing/pipeline.ts";
import { type RunningProgram, startProgram } from "../testing/program.ts";
import { testEvent, testUser, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";

Deno.test("crash safety: a SIGKILLed worker restarts with nothing lost and nothing doubled", async () => {
  const p = await setupPipeline(await sharedStack(), "w_crash", 3);
  const workers: RunningProgram[] = [];
  try {
    const t0 = Date.parse("2026-04-01T00:00:00.000Z");
    const latest = new Map<string, UserEvent>();
    const make = (i: number, at: number) => {
      const e = testEvent(testUser(i, "0002", { first_name: `N${i}-${at}` }), new Date(t0 + at));
      latest.set(e.user.id, e);
      return e;
    };
    // Phase 1 before the worker starts; phase 2 streams while it runs and is killed.
    const phase1 = Array.from({ length: 10_000 }, (_, i) => make(i, i));
    const phase2 = [
      ...Array.from({ length: 14_000 }, (_, i) => make(10_000 + i, 20_000 + i)),
      ...Array.from({ length: 6_000 }, (_, i) => make(i * 3, 40_000 + i)), // updates
    ];
    await p.kafka.produce(p.topic, phase1.map(toMessage));
    const env = { ...p.workerEnv, WORKER_FLUSH_ROWS: "500", WORKER_SESSION_TIMEOUT_MS: "6000" };
    workers.push(await startProgram("worker", env));

    // The stream holds at its middle until the kill, so the kill is always mid-stream.
    let produced = 0;
    const killed = Promise.withResolvers<void>();
    const half = phase2.length / 2;
    const streaming = (async () => {
      for (let i = 0; i < phase2.length; i += 500) {
        if (i === half) await killed.promise;
        await p.kafka.produce(p.topic, phase2.slice(i, i + 500).map(toMessage));
        produced = i + 500;
      }
    })();
    await waitUntil(
      async () => produced >= half && (await p.count()) >= 5_000,
      60_000,
      "half the stream produced and 5,000 rows written",
    );
    const status = await workers[0]!.stop("SIGKILL");
    assert.equal(status.signal, "SIGKILL");
    const snapshot = await p.sql.unsafe(`select * from ${p.schema}.users`);
    killed.resolve();
    await streaming;
    // Whatever the worker had committed at the kill, make re-delivery certain: once the killed
    // member has left the group (session timeout), rewind the group to the start of the topic.
    await waitUntil(
      async () => {
        return (await p.admin.groupState(p.groupId)).state === "Empty";
      },
      30_000,
      "the killed member to leave the group",
    );
    const starts = await p.admin.startOffsets(p.topic);
    await p.admin.setCommittedOffsets(p.groupId, p.topic, new Map(starts.map((o, i) => [i, o])));

    workers.push(await startProgram("worker", env));
    await waitUntil(
      async () => (await p.count()) === latest.size && (await p.caughtUp()),
      120_000,
      `${latest.size} rows and every offset committed`,
    );

    const rows = await p.sql.unsafe(`select * from ${p.schema}.users`);
    assert.equal(rows.length, latest.size, "one row per distinct id");
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    for (const [id, e] of latest) {
      const row = byId.get(id);
      assert.ok(row, `row ${id} is missing`);
      assert.equal(row.event_id, e.event_id, `row ${id} is from its newest event`);
      assert.equal(row.first_name, e.user.first_name);
    }
    let unchanged = 0;
    for (const before of snapshot) {
      const after = byId.get(before.id)!;
      if (after.event_id !== before.event_id) continue; // a newer event came later
      assert.deepEqual(after, before, `re-delivery changed row ${before.id}`);
      unchanged++;
    }
    assert.ok(unchanged > 0, "some rows written before the kill were compared");
    assert.equal((await workers[1]!.stop("SIGTERM")).code, 0);
  } finally {
    for (const w of workers) await w.stop("SIGKILL");
    await p.close();
  }
});
