/**
 * Integration: a zombie worker cannot move committed offsets back.
 *
 * Worker A is frozen (SIGSTOP) while its write waits on a table lock, past its session
 * timeout; worker B takes A's partitions over and commits further. Woken, A finishes its old
 * write and tries to commit the offsets of that batch: they are older than what B committed,
 * and the group refuses them as a stale generation. The client would rejoin and send them
 * again under the new generation (it did: partition 5 went from 3,527 back to 1,057); the
 * consumer group drops them instead. An observer polls the committed offsets throughout and
 * fails on any move back.
 */
import assert from "node:assert/strict";
import { createKafkaAdmin } from "../shared/kafka/admin.ts";
import { sharedStack } from "../stack/harness.ts";
import { plainConnection } from "../testing/kafka.ts";
import { setupPipeline } from "../testing/pipeline.ts";
import { type RunningProgram, startProgram } from "../testing/program.ts";
import { testEvent, testUser, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";

type Log = Record<string, unknown>;
const partitionsOf = (l: Log) =>
  Object.values((l.assigned ?? {}) as Record<string, number[]>).flat().length;
const SESSION_TIMEOUT_MS = 6_000;

Deno.test("a worker frozen past its session timeout while writing cannot move committed offsets back when it wakes", async () => {
  const stack = await sharedStack();
  const p = await setupPipeline(stack, "w_zombie", 6);
  const admin = createKafkaAdmin(plainConnection(stack.KAFKA_BROKERS, "zombie-observer"));
  const workers: RunningProgram[] = [];
  const lock = p.sql.reserve();
  let observing = true;
  const backwards: string[] = [];
  let observer: Promise<void> = Promise.resolve();
  try {
    const t0 = Date.parse("2026-05-01T00:00:00.000Z");
    const batch = (from: number, n: number) =>
      Array.from(
        { length: n },
        (_, i) => toMessage(testEvent(testUser(from + i, "0005"), new Date(t0 + from + i))),
      );
    const env = { ...p.workerEnv, WORKER_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS) };
    // A's warehouse sessions carry a name of their own, to see when its write waits.
    const named = (url: string, name: string) =>
      `${url}${url.includes("?") ? "&" : "?"}application_name=${name}`;
    const a = await startProgram("worker", {
      ...env,
      WAREHOUSE_URL: named(stack.WAREHOUSE_URL, "zombie_a"),
    });
    workers.push(a);
    await a.waitForLog((l) => l.msg === "joined group" && partitionsOf(l) === 6, 60_000, "A alone");
    await p.kafka.produce(p.topic, batch(0, 3_000));
    await waitUntil(() => p.caughtUp(), 60_000, "A to commit the first 3,000");
    const b = await startProgram("worker", env);
    workers.push(b);
    await waitUntil(
      () => {
        const lastA = a.logs.findLast((l) => l.msg === "joined group");
        const lastB = b.logs.findLast((l) => l.msg === "joined group");
        return !!lastA && !!lastB && partitionsOf(lastA) > 0 && partitionsOf(lastB) > 0 &&
          partitionsOf(lastA) + partitionsOf(lastB) === 6;
      },
      60_000,
      "A and B to share the partitions",
    );

    // The observer: committed offsets per partition, polled until the end; any move back fails.
    const highest = new Map<number, bigint>();
    observer = (async () => {
      for (let i = 0; observing && i < 20_000; i++) {
        const committed = await admin.committedOffsets(p.groupId, p.topic);
        for (const [partition, offset] of committed) {
          const before = highest.get(partition) ?? -1n;
          if (offset < before) backwards.push(`partition ${partition}: ${before} -> ${offset}`);
          else highest.set(partition, offset);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // A's next write waits on the lock; freeze A there, then let the write through.
    const sql = await lock;
    await sql`begin`;
    await sql.unsafe(`lock table ${p.schema}.users in access exclusive mode`);
    await p.kafka.produce(p.topic, batch(3_000, 3_000));
    await waitUntil(
      async () => {
        const [r] = await p.sql`
        select count(*)::int as n from pg_stat_activity
        where application_name = 'zombie_a' and wait_event_type = 'Lock'`;
        return r!.n > 0;
      },
      60_000,
      "A's write to wait on the table lock",
    );
    a.kill("SIGSTOP");
    await sql`commit`;

    // B takes every partition once A's session has expired, and commits past A's batch.
    await b.waitForLog(
      (l) => l.msg === "joined group" && partitionsOf(l) === 6,
      60_000,
      "B to own every partition",
    );
    await waitUntil(() => p.caughtUp(), 90_000, "B to commit every offset to the end");
    const before = b.logs.filter((l) => l.msg === "joined group").length;

    // Woken, A commits nothing older than B's offsets, rejoins, and the group settles.
    a.kill("SIGCONT");
    await waitUntil(
      () => {
        const lastA = a.logs.findLast((l) => l.msg === "joined group");
        const lastB = b.logs.findLast((l) => l.msg === "joined group");
        return b.logs.filter((l) => l.msg === "joined group").length > before && !!lastA &&
          !!lastB && partitionsOf(lastA) > 0 && partitionsOf(lastA) + partitionsOf(lastB) === 6;
      },
      90_000,
      "A to rejoin and the partitions to be shared again",
    );
    await p.kafka.produce(p.topic, batch(6_000, 600));
    await waitUntil(
      async () => (await p.count()) === 6_600 && (await p.caughtUp()),
      90_000,
      "6,600 rows and every offset committed",
    );
    observing = false;
    await observer;
    assert.deepEqual(backwards, [], `committed offsets moved back: ${backwards.join("; ")}`);
    assert.ok(highest.size === 6, "every partition was observed");
  } finally {
    observing = false;
    await observer.catch(() => {});
    const held = await lock;
    await held`rollback`.catch(() => {});
    held.release();
    for (const w of workers) {
      w.kill("SIGCONT");
      await w.stop("SIGKILL");
    }
    await admin.close();
    await p.close();
  }
});
