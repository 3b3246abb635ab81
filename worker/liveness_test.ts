import assert from "node:assert/strict";
import { liveness, type LivenessLimits, type LivenessSigns } from "./liveness.ts";

const S = 1_000;
/** The defaults on Redshift: a write may take longer than the watchdog allows quiet. */
const limits: LivenessLimits = {
  watchdogMs: 120 * S,
  writeTimeoutMs: 300 * S,
  retryMaxMs: 15 * S,
};
/** A member that joined at 0 and has seen nothing since, looked at `now`. */
function signs(now: number, more: Partial<LivenessSigns> = {}): LivenessSigns {
  return {
    now,
    lastFetch: 0,
    lastJoin: 0,
    lastWrite: 0,
    lastWriteFailed: false,
    writeSince: undefined,
    lastHeartbeat: 0,
    partitions: 3,
    ...more,
  };
}

Deno.test("liveness() calls a member that heartbeats but has not fetched for the watchdog's time stalled", () => {
  // The stall of issue 21: a fetch paused and never resumed, heartbeats every 3 s.
  const now = 121 * S;
  assert.deepEqual(liveness(signs(now, { lastHeartbeat: now - 2 * S }), limits), {
    alive: false,
    silentMs: 121 * S,
    reason: "no fetch or write for 121 s while owning 3 partitions; heartbeats alone do not count",
  });
});

Deno.test("liveness() keeps a member alive up to the watchdog's time after a fetch, join or write", () => {
  const now = 1_000 * S;
  for (const last of ["lastFetch", "lastJoin", "lastWrite"] as const) {
    assert.deepEqual(
      liveness(signs(now, { [last]: now - 120 * S }), limits),
      { alive: true },
      `${last} 120 s ago`,
    );
    assert.equal(liveness(signs(now, { [last]: now - 121 * S }), limits).alive, false, last);
  }
});

Deno.test("liveness() keeps an idle member alive on its empty fetches", () => {
  // Nothing to read: the stream still fetches every WORKER_MAX_WAIT_MS, and nothing is written.
  assert.deepEqual(
    liveness(signs(3_600 * S, { lastFetch: 3_600 * S - 500, lastWrite: 0 }), limits),
    { alive: true },
  );
});

Deno.test("liveness() keeps a spare member that owns no partitions alive on heartbeats", () => {
  const now = 3_600 * S;
  const spare = signs(now, { partitions: 0, lastHeartbeat: now - 3 * S });
  assert.deepEqual(liveness(spare, limits), { alive: true });
  assert.deepEqual(liveness({ ...spare, lastHeartbeat: now - 121 * S }, limits), {
    alive: false,
    silentMs: 121 * S,
    reason: "no heartbeat, fetch or write for 121 s while owning no partitions",
  });
});

Deno.test("liveness() counts a long Redshift write in progress as moving until its deadline", () => {
  // Fetching is paused behind the write; a 250 s MERGE is within the 300 s deadline.
  const since = 10 * S;
  const writing = (now: number) =>
    liveness(signs(now, { writeSince: since, lastFetch: since, lastWrite: since }), limits);
  assert.deepEqual(writing(since + 250 * S), { alive: true });
  // Past the deadline the write should have failed; the watchdog's time after it, it is hung.
  assert.deepEqual(writing(since + 420 * S), { alive: true });
  assert.deepEqual(writing(since + 421 * S), {
    alive: false,
    silentMs: 421 * S,
    reason: "a warehouse write in progress for 421 s, past its 300 s deadline " +
      "(WAREHOUSE_WRITE_TIMEOUT_MS), and no fetch for 421 s while owning 3 partitions",
  });
});

Deno.test("liveness() keeps a member retrying through a warehouse outage alive", () => {
  // Fetching paused (the buffer is full); each attempt fails at its 300 s deadline, then waits
  // up to WORKER_RETRY_MAX_MS before the next one starts.
  let now = 0;
  let lastWrite = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    const writeSince = lastWrite + limits.retryMaxMs;
    for (const at of [writeSince - 1, writeSince + 150 * S, writeSince + 300 * S]) {
      now = at;
      const inProgress = at >= writeSince ? writeSince : undefined;
      const result = liveness(
        signs(now, { lastWrite, lastWriteFailed: attempt > 0, writeSince: inProgress }),
        limits,
      );
      assert.deepEqual(result, { alive: true }, `attempt ${attempt} at ${at / S} s`);
    }
    lastWrite = writeSince + 300 * S;
  }
  assert.ok(now > 5_000 * S, "an outage far longer than the watchdog's time");
});

Deno.test("liveness() allows the longest backoff delay after a failed write, not after a good one", () => {
  const now = 130 * S;
  assert.deepEqual(liveness(signs(now, { lastWriteFailed: true }), limits), { alive: true });
  assert.equal(liveness(signs(now, { lastWriteFailed: false }), limits).alive, false);
  assert.equal(liveness(signs(136 * S, { lastWriteFailed: true }), limits).alive, false);
});

Deno.test("liveness() trips on a stream being reopened, heartbeats or not", () => {
  // Reopening: no fetch answers, the member still owns its partitions and heartbeats.
  const now = 200 * S;
  const result = liveness(signs(now, { lastFetch: 60 * S, lastHeartbeat: now }), limits);
  assert.equal(result.alive, false);
  assert.equal(result.alive === false && result.silentMs, 140 * S);
});

Deno.test("liveness() names one partition in the singular", () => {
  const result = liveness(signs(121 * S, { partitions: 1 }), limits);
  assert.equal(
    result.alive === false && result.reason,
    "no fetch or write for 121 s while owning 1 partition; heartbeats alone do not count",
  );
});
