/**
 * The ingest's Prometheus metrics, registered once on a registry and updated by the app, the
 * batcher and the pull job.
 *
 * Per-request updates go to series bound once per label combination (looked up in nested maps,
 * no labels object or key string per request): label values come from small fixed sets (known
 * routes and methods, statuses, sources, reasons), so the maps stay small.
 */
import {
  type BoundCounter,
  type BoundHistogram,
  LATENCY_BUCKETS,
  type Registry,
  SIZE_BUCKETS,
} from "../shared/metrics.ts";
import type { BatcherObserver, BatcherStats } from "./produce/batcher.ts";

type Statuses = Map<number, BoundCounter>;

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
    stalledLanes: [],
    lanes: [],
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
  const stalledLanes = registry.gauge(
    "ingest_produce_stalled_lanes",
    "Send lanes (partition leaders) whose send is stuck past the acknowledgement timeout",
    [],
    () => stalledLanes.set(stats().stalledLanes.length),
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
  const byRoute = new Map<string, { duration: BoundHistogram; methods: Map<string, Statuses> }>();
  const acceptedBy = new Map<string, BoundCounter>();
  const rejectedBy = new Map<string, Map<string, BoundCounter>>();
  // Bound at first use: a series appears in /metrics only once it happened, as before.
  let batchOk: BoundCounter | undefined;
  let batchError: BoundCounter | undefined;
  const batchSizes = batchSize.bind();
  const produceTimes = produceSeconds.bind();
  return {
    request(route, method, status, seconds) {
      let r = byRoute.get(route);
      if (!r) byRoute.set(route, r = { duration: duration.bind({ route }), methods: new Map() });
      let statuses = r.methods.get(method);
      if (!statuses) r.methods.set(method, statuses = new Map());
      let counter = statuses.get(status);
      if (!counter) {
        statuses.set(status, counter = requests.bind({ route, method, status: String(status) }));
      }
      counter.inc();
      r.duration.observe(seconds);
    },
    accepted(source, count) {
      let counter = acceptedBy.get(source);
      if (!counter) acceptedBy.set(source, counter = accepted.bind({ source }));
      counter.inc(count);
    },
    rejected(source, reason, count) {
      let reasons = rejectedBy.get(source);
      if (!reasons) rejectedBy.set(source, reasons = new Map());
      let counter = reasons.get(reason);
      if (!counter) reasons.set(reason, counter = rejected.bind({ source, reason }));
      counter.inc(count);
    },
    pullRun(outcome, produced) {
      pullRuns.inc({ outcome });
      pulled.inc({}, produced);
    },
    batcher: {
      batchSent(messages, _bytes, seconds, ok) {
        if (ok) (batchOk ??= batches.bind({ outcome: "ok" })).inc();
        else (batchError ??= batches.bind({ outcome: "error" })).inc();
        batchSizes.observe(messages);
        produceTimes.observe(seconds);
      },
    },
  };
}
