/**
 * A postgres.js pool that can be thrown away, connections and all, for a fresh one.
 *
 * postgres.js has no per-query timeout that works on a silent network (`statement_timeout` is
 * the server's, and `query.cancel()` opens another connection, which hangs the same way). The
 * one way to end a query stuck on a dead connection is to end its pool: `end({ timeout: 0 })`
 * terminates every connection at once, which rejects the queries in flight and queued with
 * `CONNECTION_DESTROYED` and sends Terminate and a FIN on the socket. An ended pool refuses
 * every later query (`CONNECTION_ENDED`), so the next write needs a new pool: `discard` makes
 * it, and the next connection is opened by that write (`connect_timeout` bounds it).
 *
 * The old socket is closed with a FIN, not reset: on a path that drops packets the operating
 * system keeps it until TCP gives up on it (minutes); nothing waits on it meanwhile.
 */
import type { Sql } from "postgres";

/** A pool the sink writes through, which a hung write can have replaced. */
export interface ReplaceablePool {
  /** The pool in use. */
  current(): Sql;
  /**
   * Ends `hung` at once, if it is still the pool in use, and opens a new one for what follows.
   * Queries of `hung` in flight reject with `CONNECTION_DESTROYED`. A pool replaced before is
   * left alone (it was ended then).
   */
  discard(hung: Sql): void;
  /** Ends the pool in use, as `Sql.end` does, and waits for the discarded ones to end. */
  end(options?: { timeout?: number }): Promise<void>;
}

/** Opens a pool with `open` now, and again after each `discard`. */
export function createReplaceablePool(open: () => Sql): ReplaceablePool {
  let sql = open();
  const ending = new Set<Promise<void>>();
  return {
    current: () => sql,
    discard(hung) {
      if (hung !== sql) return;
      sql = open();
      const ended: Promise<void> = hung.end({ timeout: 0 }).catch(() => {}).finally(() =>
        ending.delete(ended)
      );
      ending.add(ended);
    },
    async end(options) {
      await Promise.all([sql.end(options), ...ending]);
    },
  };
}
