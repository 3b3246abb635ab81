/** A small live-view snapshot for tests (here, not in a test file, so importing it runs no test). */
import type { Snapshot } from "./snapshot.ts";

/** A snapshot taken at `time` with one partition 2 records and 1.5 s behind. */
export function snapshotAt(time: number): Snapshot {
  return {
    time,
    rates: { accepted: 1, produced: 1, rows: 1, superseded: 0, deadLettered: 0 },
    lag: [{ partition: 0, end: "3", committed: "1", records: 2, seconds: 1.5 }],
    flush: { p50: null, p99: null, windowSeconds: 60 },
    warehouse: { retries: 0, errors: 0, retriesTotal: 0, errorsTotal: 0 },
    instances: [],
    kafka: { ok: true },
  };
}
