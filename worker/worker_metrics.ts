/**
 * The worker's metrics, registered once per process and exposed on `/metrics`.
 */
import {
  type Counter,
  type Gauge,
  type Histogram,
  LATENCY_BUCKETS,
  type Registry,
  SIZE_BUCKETS,
} from "../shared/metrics.ts";

/** Every metric the worker updates. */
export interface WorkerMetrics {
  /** Records consumed, by topic. */
  records: Counter;
  /** Rows written to the warehouse. */
  rowsUpserted: Counter;
  /** Records collapsed into a newer record of the same batch. */
  superseded: Counter;
  /** Rows written that the warehouse left as they were (its stored row was as new or newer). */
  stale: Counter;
  /** Dead letters, by stage (`utf8`, `json`, `schema`, `write`). */
  deadLetters: Counter;
  /** Records per batch. */
  batchSize: Histogram;
  /** Seconds from batch start to offsets resolved. */
  batchSeconds: Histogram;
  /** Messages between the last processed offset and the high watermark, by partition. */
  lag: Gauge;
  /** Warehouse and dead-letter errors, by kind (`retry`, `reject`, `dead_letter`). */
  errors: Counter;
  /**
   * Partitions whose fetching is paused right now because the buffers behind the write in
   * progress are full (back-pressure). Not a count of partitions in a retry: in a warehouse
   * outage it stays 0 until the buffers fill (`/readyz` and `worker_warehouse_errors_total` show
   * the outage at once).
   */
  paused: Gauge;
  /** Records not written because their partition is held at a record of a newer version. */
  held: Counter;
  /** Partitions held at a record of a newer version (see `batch/partition_holds.ts`). */
  partitionsHeld: Gauge;
  /**
   * Offset commits sent to the group coordinator (each one a request the broker answers and a
   * write to `__consumer_offsets`), answered or failed.
   */
  offsetCommits: Counter;
}

/** What `worker_paused_partitions` counts; `docs/worker.md` says the same. */
export const PAUSED_HELP = "Partitions paused for back-pressure (buffers full)";

/** Registers the worker's metrics in `registry`. */
export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  return {
    records: registry.counter("worker_records_consumed_total", "Records consumed", ["topic"]),
    rowsUpserted: registry.counter("worker_rows_upserted_total", "Rows written to the warehouse"),
    superseded: registry.counter(
      "worker_records_superseded_total",
      "Records collapsed into a newer record for the same id in the same batch",
    ),
    stale: registry.counter(
      "worker_rows_stale_total",
      "Rows written that the warehouse left as they were: its stored row was as new or newer",
    ),
    deadLetters: registry.counter(
      "worker_dead_letters_total",
      "Records sent to the dead-letter topic, by stage",
      ["stage"],
    ),
    batchSize: registry.histogram("worker_batch_size", "Records per batch", SIZE_BUCKETS),
    batchSeconds: registry.histogram(
      "worker_batch_duration_seconds",
      "Time to process one batch, from fetch to offsets resolved",
      LATENCY_BUCKETS,
    ),
    lag: registry.gauge("worker_consumer_lag", "Records behind the high watermark", [
      "topic",
      "partition",
    ]),
    errors: registry.counter("worker_warehouse_errors_total", "Write errors, by kind", ["kind"]),
    paused: registry.gauge("worker_paused_partitions", PAUSED_HELP),
    held: registry.counter(
      "worker_records_held_total",
      "Records neither written nor dead-lettered: at or past a record whose schema_version is " +
        "newer than this worker",
    ),
    partitionsHeld: registry.gauge(
      "worker_partitions_held",
      "Partitions held at a record whose schema_version is newer than this worker",
    ),
    offsetCommits: registry.counter(
      "worker_offset_commits_total",
      "Offset commits sent to the group coordinator",
    ),
  };
}
