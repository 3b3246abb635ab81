/**
 * The counters one instance exposes that the live view turns into rates, read from its
 * `/metrics` samples (the names are the ones `ingest/ingest_metrics.ts` and
 * `worker/worker_metrics.ts` register).
 */
import { type Sample, sumOf } from "../sources/metrics_text.ts";

/** Cumulative counters of one instance. */
export interface InstanceTotals {
  /** Events Kafka acknowledged to the ingest. */
  accepted: number;
  /** Rows the worker's upserts inserted or updated. */
  rows: number;
  /**
   * Records that lost to a newer event of the same user: collapsed into a newer record of the
   * same batch, or left out by the warehouse because the stored row was as new or newer.
   */
  superseded: number;
  /** Records sent to the dead-letter topic. */
  deadLettered: number;
  /** Transient warehouse errors that were retried. */
  retries: number;
  /** Other warehouse and dead-letter errors. */
  errors: number;
  /** Flush (batch) durations: cumulative counts by upper bound in seconds. */
  flushBuckets: Map<number, number>;
}

/** The totals in `samples` (0 for what an instance does not expose). */
export function instanceTotals(samples: readonly Sample[]): InstanceTotals {
  const flushBuckets = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== "worker_batch_duration_seconds_bucket") continue;
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    if (!Number.isNaN(le)) flushBuckets.set(le, (flushBuckets.get(le) ?? 0) + s.value);
  }
  const allErrors = sumOf(samples, "worker_warehouse_errors_total");
  const retries = sumOf(samples, "worker_warehouse_errors_total", { kind: "retry" });
  const stale = sumOf(samples, "worker_rows_stale_total");
  return {
    accepted: sumOf(samples, "ingest_events_accepted_total"),
    rows: sumOf(samples, "worker_rows_upserted_total") - stale,
    superseded: sumOf(samples, "worker_records_superseded_total") + stale,
    deadLettered: sumOf(samples, "worker_dead_letters_total"),
    retries,
    errors: allErrors - retries,
    flushBuckets,
  };
}

/**
 * How much a counter grew between two readings: a smaller value means the process restarted
 * (counters start at 0 again), so all of it is new.
 */
export function counterDelta(previous: number | undefined, current: number): number {
  if (previous === undefined) return 0;
  return current >= previous ? current - previous : current;
}
