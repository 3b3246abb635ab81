/**
 * The ingest's Prometheus metrics, registered once on a registry and updated by the app, the
 * batcher and the pull job.
 */
import { LATENCY_BUCKETS, type Registry, SIZE_BUCKETS } from "../shared/metrics.ts";
import type { BatcherObserver, BatcherStats } from "./batcher.ts";

/** The metrics the ingest updates. */
export interface IngestMetrics {
  /** Counts one HTTP answer and its duration. */
  request(route: string, method: string, status: number, seconds: number): void;
  /** Counts events that Kafka acknowledged. */
  accepted(source: string, count: number): void;
  /** Counts events refused (`reason`: invalid, unauthorized, too_large, unavailable, …). */
  rejected(source: string, reason: string, count: number): void;
  /** Counts one pull run by outcome. */
  pullRun(outcome: string, produced: number): void;
  /** For `createBatcher`: one observation per send. */
  batcher: BatcherObserver;
}

/**
 * Registers the ingest's metrics on `registry`. `stats` is read when scraped, for the
 * buffer gauges.
 */
export function createIngestMetrics(
  registry: Registry,
  stats: () => BatcherStats = () => ({
    queuedMessages: 0,
    bufferedBytes: 0,
    maxBufferBytes: 1,
    inFlight: false,
    stalled: false,
    lastSendOk: true,
  }),
): IngestMetrics {
  const requests = registry.counter(
    "ingest_http_requests_total",
    "HTTP requests answered, by route, method and status",
    ["route", "method", "status"],
  );
  const duration = registry.histogram(
    "ingest_http_request_duration_seconds",
    "Time from request to answer, by route",
    LATENCY_BUCKETS,
    ["route"],
  );
  const accepted = registry.counter(
    "ingest_events_accepted_total",
    "Events acknowledged by Kafka, by source",
    ["source"],
  );
  const rejected = registry.counter(
    "ingest_events_rejected_total",
    "Events refused, by source and reason",
    ["source", "reason"],
  );
  const produceSeconds = registry.histogram(
    "ingest_produce_duration_seconds",
    "Time for Kafka to acknowledge one batched send",
    LATENCY_BUCKETS,
  );
  const batchSize = registry.histogram(
    "ingest_produce_batch_messages",
    "Messages per batched send",
    SIZE_BUCKETS,
  );
  const batches = registry.counter(
    "ingest_produce_batches_total",
    "Batched sends, by outcome (ok, error)",
    ["outcome"],
  );
  const bufferBytes = registry.gauge(
    "ingest_buffer_bytes",
    "Bytes queued or in flight in the producer batcher",
    [],
    () => bufferBytes.set(stats().bufferedBytes),
  );
  const bufferFill = registry.gauge(
    "ingest_buffer_fill_ratio",
    "Fill of the producer batcher's buffer (0 to 1); at 1 requests get 503",
    [],
    () => {
      const s = stats();
      bufferFill.set(s.bufferedBytes / s.maxBufferBytes);
    },
  );
  const queued = registry.gauge(
    "ingest_buffer_messages",
    "Messages queued in the producer batcher, waiting for a send",
    [],
    () => queued.set(stats().queuedMessages),
  );
  const pullRuns = registry.counter(
    "ingest_pull_runs_total",
    "Pull job runs, by outcome (ok, partial, failed, skipped)",
    ["outcome"],
  );
  const pulled = registry.counter(
    "ingest_pull_users_total",
    "Users produced by the pull job",
  );
  return {
    request(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      duration.observe(seconds, { route });
    },
    accepted: (source, count) => accepted.inc({ source }, count),
    rejected: (source, reason, count) => rejected.inc({ source, reason }, count),
    pullRun(outcome, produced) {
      pullRuns.inc({ outcome });
      pulled.inc({}, produced);
    },
    batcher: {
      batchSent(messages, _bytes, seconds, ok) {
        batches.inc({ outcome: ok ? "ok" : "error" });
        batchSize.observe(messages);
        produceSeconds.observe(seconds);
      },
    },
  };
}
