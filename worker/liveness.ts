/**
 * The watchdog's decision: is the consumer loop still moving? Kafka clients have been seen to
 * hang after broker restarts, and a consumer loop can stall while the client's heartbeat
 * thread runs on: a fetch paused and never resumed kept a worker in the group, owning its
 * partitions, fetching nothing and answering `/readyz` 200 (issue 21). So a heartbeat is not
 * progress while the member owns partitions; what is:
 *
 * - a fetch answer, even an empty one (the stream fetches every `WORKER_MAX_WAIT_MS` when
 *   idle, and a failed fetch answers too);
 * - a join or rebalance of the group;
 * - the end of a write attempt, successful or not: during a warehouse outage the next attempt
 *   comes after a backoff delay of at most `WORKER_RETRY_MAX_MS`, so that much more quiet is
 *   allowed after a failed one;
 * - a write in progress, up to its own deadline (`WAREHOUSE_WRITE_TIMEOUT_MS`, 300 s on
 *   Redshift, longer than the watchdog): fetching is paused while one waits behind it.
 *
 * A member that owns no partitions (more workers than partitions) has nothing to fetch: its
 * heartbeats are its sign of life. A stream being reopened again and again fetches nothing,
 * so it trips the watchdog, and the supervisor's restart is the right answer to it.
 */

/** What the worker saw last, as times in ms on the clock of `now`. */
export interface LivenessSigns {
  now: number;
  /** The last fetch answer (records, none, or an error). */
  lastFetch: number;
  /** The last join or rebalance of the group. */
  lastJoin: number;
  /** The end of the last write attempt (the start of the worker before any). */
  lastWrite: number;
  /** The last write attempt failed: a retry follows after a backoff delay. */
  lastWriteFailed: boolean;
  /** When the write in progress started; undefined when none is. */
  writeSince: number | undefined;
  /** The last heartbeat answered by the group coordinator. */
  lastHeartbeat: number;
  /** How many partitions the member owns now. */
  partitions: number;
}

/** The settings the decision reads. */
export interface LivenessLimits {
  /** `WORKER_WATCHDOG_MS`: the quiet allowed after the last sign. */
  watchdogMs: number;
  /** `WAREHOUSE_WRITE_TIMEOUT_MS`: how long a write in progress counts as moving. */
  writeTimeoutMs: number;
  /** `WORKER_RETRY_MAX_MS`: the longest backoff delay after a failed write. */
  retryMaxMs: number;
}

/** Alive, or stalled with the reason for the log. */
export type Liveness =
  | { alive: true }
  | { alive: false; reason: string; silentMs: number };

/** Decides whether the consumer loop is still moving (see the module's comment). */
export function liveness(signs: LivenessSigns, limits: LivenessLimits): Liveness {
  const { now, partitions } = signs;
  const { watchdogMs, writeTimeoutMs, retryMaxMs } = limits;
  // Each sign allows quiet until a deadline; the loop is alive while one has not passed.
  const quietUntil = Math.max(
    signs.lastFetch + watchdogMs,
    signs.lastJoin + watchdogMs,
    signs.lastWrite + watchdogMs + (signs.lastWriteFailed ? retryMaxMs : 0),
    signs.writeSince === undefined ? -Infinity : signs.writeSince + writeTimeoutMs + watchdogMs,
    partitions === 0 ? signs.lastHeartbeat + watchdogMs : -Infinity,
  );
  if (now <= quietUntil) return { alive: true };

  const progress = Math.max(signs.lastFetch, signs.lastJoin, signs.lastWrite);
  const silentMs = now - progress;
  const s = (ms: number) => Math.floor(ms / 1000);
  if (partitions === 0) {
    const last = Math.max(progress, signs.lastHeartbeat);
    return {
      alive: false,
      silentMs: now - last,
      reason: `no heartbeat, fetch or write for ${s(now - last)} s while owning no partitions`,
    };
  }
  if (signs.writeSince !== undefined) {
    return {
      alive: false,
      silentMs,
      reason: `a warehouse write in progress for ${s(now - signs.writeSince)} s, past its ${
        s(writeTimeoutMs)
      } s deadline (WAREHOUSE_WRITE_TIMEOUT_MS), and no fetch for ${s(silentMs)} s while owning ${
        partitionCount(partitions)
      }`,
    };
  }
  return {
    alive: false,
    silentMs,
    reason: `no fetch or write for ${s(silentMs)} s while owning ${
      partitionCount(partitions)
    }; heartbeats alone do not count`,
  };
}

function partitionCount(n: number): string {
  return n === 1 ? "1 partition" : `${n} partitions`;
}
