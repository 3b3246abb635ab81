import assert from "node:assert/strict";
import { silentLogger } from "../../shared/logger.ts";
import type { PartitionOffset } from "../../shared/kafka/consumer_group.ts";
import { waitUntil } from "../../testing/wait.ts";
import { OffsetQueue } from "./offset_queue.ts";
import { PartitionHolds } from "./partition_holds.ts";

/** A queue on a fake group whose commits wait until released (`gated`) or pass at once. */
function queue(
  opts: {
    gated?: boolean;
    holds?: PartitionHolds;
    now?: () => number;
    intervalMs?: number;
    timer?: (fn: () => void, ms: number) => () => void;
  } = {},
) {
  const commits: PartitionOffset[][] = [];
  const gates: ((err?: Error) => void)[] = [];
  const owned = new Set(["t:0", "t:1", "t:2"]);
  let idle = 0;
  let sent = 0;
  const q = new OffsetQueue({
    commit(offsets) {
      commits.push([...offsets].sort((a, b) => a.partition - b.partition));
      if (!opts.gated) return Promise.resolve();
      return new Promise<void>((resolve, reject) =>
        gates.push((err) => err ? reject(err) : resolve())
      );
    },
    assignment: () => owned,
    logger: silentLogger,
    now: opts.now ?? Date.now,
    ...(opts.holds ? { holds: opts.holds } : {}),
    onIdle: () => idle++,
    onCommit: () => sent++,
    ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
    ...(opts.timer ? { timer: opts.timer } : {}),
  });
  return { q, commits, gates, owned, idles: () => idle, sent: () => sent };
}

const at = (partition: number, offset: bigint): PartitionOffset => ({
  topic: "t",
  partition,
  offset,
});

const until = (condition: () => boolean, what: string) =>
  waitUntil(condition, 5_000, what, { intervalMs: 1 });

Deno.test("OffsetQueue commits at once when nothing is on its way, and says when it is idle", async () => {
  const { q, commits, idles } = queue();
  assert.equal(q.busy, false);
  q.push([at(0, 5n), at(1, 2n)]);
  assert.equal(q.busy, true);
  await q.settled();
  assert.equal(q.busy, false);
  assert.equal(idles(), 1);
  assert.deepEqual(commits, [[at(0, 5n), at(1, 2n)]]);
});

Deno.test("OffsetQueue keeps one commit in flight and merges what piles up into the next, the highest offset per partition", async () => {
  const { q, commits, gates, sent } = queue({ gated: true });
  q.push([at(0, 1n)]);
  q.push([at(0, 3n), at(1, 4n)]);
  q.push([at(0, 2n)]); // lower than one queued: the higher stays
  assert.equal(commits.length, 1, "one commit in flight");
  gates.shift()!();
  await until(() => commits.length === 2, "the merged commit");
  assert.deepEqual(commits[1], [at(0, 3n), at(1, 4n)]);
  gates.shift()!();
  await q.settled();
  assert.equal(sent(), 2, "onCommit counts the two requests sent, not the three pushes");
});

Deno.test("OffsetQueue commits only partitions owned when the commit is sent", async () => {
  const { q, commits, gates, owned } = queue({ gated: true });
  q.push([at(0, 1n)]);
  q.push([at(1, 1n), at(2, 1n)]);
  owned.delete("t:2"); // revoked while its offset waited
  gates.shift()!();
  await until(() => commits.length === 2, "the second commit");
  assert.deepEqual(commits[1], [at(1, 1n)]);
  gates.shift()!();
  await q.settled();
});

Deno.test("OffsetQueue never commits lower than it committed, until a reassignment makes it forget", async () => {
  const { q, commits } = queue();
  q.push([at(0, 9n)]);
  await q.settled();
  q.push([at(0, 4n)]); // read again after a rebalance
  await q.settled();
  assert.deepEqual(commits, [[at(0, 9n)]]);
  q.reassigned(); // another member may have committed it meanwhile: the group judges
  q.push([at(0, 4n)]);
  await q.settled();
  assert.deepEqual(commits, [[at(0, 9n)], [at(0, 4n)]]);
});

Deno.test("OffsetQueue commits a held partition up to its hold, never past it", async () => {
  const holds = new PartitionHolds();
  holds.hold({ topic: "t", partition: 0, offset: 6n, version: 9 });
  const { q, commits } = queue({ holds });
  q.push([at(0, 8n), at(1, 3n)]);
  await q.settled();
  assert.deepEqual(commits, [[at(0, 6n), at(1, 3n)]]);
});

Deno.test("OffsetQueue logs a failed commit and does not send it again; the next offsets go", async () => {
  const { q, commits, gates } = queue({ gated: true });
  q.push([at(0, 1n)]);
  gates.shift()!(new Error("NOT_COORDINATOR"));
  await q.settled();
  assert.deepEqual(commits, [[at(0, 1n)]]);
  q.push([at(0, 2n)]);
  gates.shift()!();
  await q.settled();
  assert.deepEqual(commits, [[at(0, 1n)], [at(0, 2n)]]);
});

Deno.test("OffsetQueue.waitingMs() counts from the send until the answer", async () => {
  let clock = 1_000;
  const { q, gates } = queue({ gated: true, now: () => clock });
  assert.equal(q.waitingMs(), 0);
  q.push([at(0, 1n)]);
  clock += 16_000;
  assert.equal(q.waitingMs(), 16_000);
  gates.shift()!();
  await q.settled();
  assert.equal(q.waitingMs(), 0);
});

/** A fake timer: what is scheduled, fired by the test (never by real time). */
function fakeTimer() {
  const scheduled: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  return {
    scheduled,
    live: () => scheduled.filter((t) => !t.cancelled),
    timer(fn: () => void, ms: number) {
      const t = { fn, ms, cancelled: false };
      scheduled.push(t);
      return () => t.cancelled = true;
    },
    fire() {
      for (const t of scheduled.splice(0)) if (!t.cancelled) t.fn();
    },
  };
}

Deno.test("OffsetQueue with an interval sends the first commit at once and the next only once the interval has passed since the last send, merged", async () => {
  let clock = 10_000;
  const t = fakeTimer();
  const { q, commits } = queue({ now: () => clock, intervalMs: 1_000, timer: t.timer });
  q.push([at(0, 1n)]);
  await until(() => commits.length === 1, "the first commit, sent at once");
  clock += 100;
  q.push([at(0, 2n)]);
  q.push([at(0, 3n), at(1, 1n)]);
  await until(() => t.live().length === 1, "a wait for the rest of the interval");
  assert.equal(t.live()[0]!.ms, 900, "waits out the interval since the last send, not a full one");
  assert.equal(commits.length, 1, "nothing more is sent within the interval");
  assert.equal(q.busy, true, "offsets waiting keep the queue busy");
  clock += 900;
  t.fire();
  await q.settled();
  assert.deepEqual(commits, [[at(0, 1n)], [at(0, 3n), at(1, 1n)]]);
  clock += 5_000;
  q.push([at(0, 4n)]);
  await q.settled();
  assert.deepEqual(commits.at(-1), [at(0, 4n)], "after a quiet interval a commit goes at once");
  assert.equal(t.live().length, 0);
});

Deno.test("OffsetQueue.flush() sends the offsets waiting for the interval at once, and later ones wait again", async () => {
  let clock = 10_000;
  const t = fakeTimer();
  const { q, commits } = queue({ now: () => clock, intervalMs: 1_000, timer: t.timer });
  q.push([at(0, 1n)]);
  await until(() => commits.length === 1, "the first commit");
  q.push([at(2, 7n)]);
  await until(() => t.live().length === 1, "the wait");
  await q.flush();
  assert.deepEqual(commits, [[at(0, 1n)], [at(2, 7n)]]);
  assert.equal(t.live().length, 0, "the wait was cancelled");
  clock += 10;
  q.push([at(2, 8n)]);
  await until(() => t.live().length === 1, "the next wait: flush() did not end the interval");
  assert.equal(commits.length, 2);
  await q.flush();
  assert.deepEqual(commits.at(-1), [at(2, 8n)]);
});
