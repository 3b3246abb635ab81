import assert from "node:assert/strict";
import { silentLogger } from "../../shared/logger.ts";
import type { PartitionOffset } from "../../shared/kafka/consumer_group.ts";
import { waitUntil } from "../../testing/wait.ts";
import { OffsetQueue } from "./offset_queue.ts";
import { PartitionHolds } from "./partition_holds.ts";

/** A queue on a fake group whose commits wait until released (`gated`) or pass at once. */
function queue(opts: { gated?: boolean; holds?: PartitionHolds; now?: () => number } = {}) {
  const commits: PartitionOffset[][] = [];
  const gates: ((err?: Error) => void)[] = [];
  const owned = new Set(["t:0", "t:1", "t:2"]);
  let idle = 0;
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
  });
  return { q, commits, gates, owned, idles: () => idle };
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
  const { q, commits, gates } = queue({ gated: true });
  q.push([at(0, 1n)]);
  q.push([at(0, 3n), at(1, 4n)]);
  q.push([at(0, 2n)]); // lower than one queued: the higher stays
  assert.equal(commits.length, 1, "one commit in flight");
  gates.shift()!();
  await until(() => commits.length === 2, "the merged commit");
  assert.deepEqual(commits[1], [at(0, 3n), at(1, 4n)]);
  gates.shift()!();
  await q.settled();
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
