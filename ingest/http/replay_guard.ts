/**
 * Rejects a `webhook-id` seen before within the signature's tolerance window.
 *
 * An id is claimed when a signed request starts and released again when the request fails
 * (so that the sender's retry of a 503 is not mistaken for a replay); an id whose request was
 * accepted stays claimed until the window has passed. After the window the timestamp check
 * refuses the old request anyway.
 *
 * Memory is bounded: at `maxEntries` the oldest claims are evicted first (Map keeps insertion
 * order, which is also expiry order). The guard is per process: with several ingest copies a
 * replay can reach another copy, which is why the warehouse upsert is idempotent as well.
 */

/** Remembers recent webhook ids. */
export interface ReplayGuard {
  /** Claims `id`; false when it was claimed within the window (a replay). */
  claim(id: string): boolean;
  /** Forgets `id` (its request was not accepted, the sender may retry). */
  release(id: string): void;
  /** How many ids are remembered. */
  size(): number;
}

/** Options for `createReplayGuard`. */
export interface ReplayGuardOptions {
  /** How long an id stays claimed, in ms. */
  windowMs: number;
  /** Upper bound on remembered ids (0 disables the guard). */
  maxEntries: number;
  /** The clock in ms (default `Date.now`). */
  now?: () => number;
}

/** Creates an in-memory replay guard. */
export function createReplayGuard(opts: ReplayGuardOptions): ReplayGuard {
  const now = opts.now ?? Date.now;
  const expiries = new Map<string, number>();

  const evict = (t: number) => {
    for (const [id, expiry] of expiries) {
      if (expiry > t && expiries.size < opts.maxEntries) break;
      expiries.delete(id);
    }
  };

  return {
    claim(id) {
      if (opts.maxEntries === 0) return true;
      const t = now();
      const expiry = expiries.get(id);
      if (expiry !== undefined && expiry > t) return false;
      expiries.delete(id);
      evict(t);
      expiries.set(id, t + opts.windowMs);
      return true;
    },
    release(id) {
      expiries.delete(id);
    },
    size: () => expiries.size,
  };
}
