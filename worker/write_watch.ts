/**
 * Times the warehouse write in progress, so that `/readyz` can say when one hangs. A write on
 * a blackholed connection gives no error until its deadline (`WAREHOUSE_WRITE_TIMEOUT_MS`);
 * meanwhile the last write that ended may well have succeeded, so readiness asks how long the
 * current one has run.
 */
import type { WarehouseSink } from "./warehouse/port.ts";

/** A sink whose writes are timed. */
export interface WatchedSink {
  /** The sink to write through: `sink` with its upserts timed. */
  sink: WarehouseSink;
  /**
   * Why the worker is not ready when the upsert in progress has run for `afterMs` or longer
   * (`warehouse write in progress for 12 s`), else undefined.
   */
  slowWrite(afterMs: number): string | undefined;
}

/** Wraps `sink`; `now` gives the time in ms. */
export function watchWrites(sink: WarehouseSink, now: () => number = Date.now): WatchedSink {
  // The committer writes one batch at a time, and a batch's upserts one after another.
  let since: number | undefined;
  return {
    sink: {
      ensureTable: () => sink.ensureTable(),
      ping: () => sink.ping(),
      async upsert(rows) {
        since = now();
        try {
          return await sink.upsert(rows);
        } finally {
          since = undefined;
        }
      },
    },
    slowWrite(afterMs) {
      if (since === undefined) return undefined;
      const ms = now() - since;
      return ms >= afterMs
        ? `warehouse write in progress for ${Math.floor(ms / 1000)} s`
        : undefined;
    },
  };
}
