/**
 * The kafkajs `eachBatch` handler: cuts a fetched batch into warehouse transactions, resolves
 * offsets only after each one is written (and its dead letters acknowledged), heartbeats
 * between them, and on a transient error pauses the partition for a backoff delay instead of
 * blocking the consumer, so the group membership stays alive and the partition resumes alone.
 *
 * Unresolved records are fetched again by kafkajs (its next fetch starts after the last
 * resolved offset), so leaving a batch early never skips a record.
 */
import type { Logger } from "../shared/logger.ts";
import { errorFields } from "../shared/logger.ts";
import type { ConsumedMessage, RecordHeaders } from "./consumed_message.ts";
import type { BatchOutcome } from "./handle_batch.ts";
import { backoffDelay } from "./backoff_delay.ts";
import type { WorkerMetrics } from "./worker_metrics.ts";

/** The part of kafkajs's `EachBatchPayload` this handler uses. */
export interface BatchPayload {
  batch: {
    topic: string;
    partition: number;
    highWatermark: string;
    messages: {
      offset: string;
      key: Uint8Array | null;
      value: Uint8Array | null;
      headers?: RecordHeaders;
    }[];
  };
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
  pause(): () => void;
}

/** What the handler needs. */
export interface EachBatchDeps {
  handle: (messages: readonly ConsumedMessage[]) => Promise<BatchOutcome>;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Records per warehouse transaction. */
  maxBatchRows: number;
  retry: { minMs: number; maxMs: number; random?: () => number };
  /** True once shutdown has begun: stop between transactions. */
  stopping: () => boolean;
  /** Called after every transaction and every retry decision (feeds the watchdog). */
  onProgress?: () => void;
  /** Reports warehouse health for `/readyz`. */
  onWarehouse?: (ok: boolean) => void;
  clock?: { now: () => number };
}

/** The handler plus a way to cancel its pending resume timers at shutdown. */
export interface EachBatch {
  eachBatch(payload: BatchPayload): Promise<void>;
  /** Clears pending resume timers (paused partitions are left to the next group owner). */
  close(): void;
}

/** Creates the `eachBatch` handler. */
export function createEachBatch(deps: EachBatchDeps): EachBatch {
  const attempts = new Map<string, number>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const now = deps.clock?.now ?? Date.now;

  const pauseForRetry = (payload: BatchPayload, key: string, err: unknown) => {
    const attempt = attempts.get(key) ?? 0;
    attempts.set(key, attempt + 1);
    const delay = backoffDelay(attempt, deps.retry);
    deps.logger.warn("write failed, retrying later", {
      topic: payload.batch.topic,
      partition: payload.batch.partition,
      attempt: attempt + 1,
      delayMs: delay,
      ...errorFields(err),
    });
    const resume = payload.pause();
    deps.metrics.paused.inc();
    const timer = setTimeout(() => {
      timers.delete(timer);
      deps.metrics.paused.inc({}, -1);
      resume();
    }, delay);
    timers.add(timer);
  };

  return {
    async eachBatch(payload) {
      const { batch } = payload;
      const key = `${batch.topic}:${batch.partition}`;
      const started = now();
      let handled = 0;
      for (let i = 0; i < batch.messages.length; i += deps.maxBatchRows) {
        if (deps.stopping() || !payload.isRunning() || payload.isStale()) return;
        const slice = batch.messages.slice(i, i + deps.maxBatchRows);
        const messages: ConsumedMessage[] = slice.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          headers: m.headers ?? {},
        }));
        let outcome: BatchOutcome;
        try {
          outcome = await deps.handle(messages);
        } catch (err) {
          const retriable = (err as { retriable?: unknown }).retriable !== false;
          deps.metrics.errors.inc({
            kind: (err as Error).name === "DeadLetterError" ? "dead_letter" : "retry",
          });
          deps.onWarehouse?.(false);
          deps.onProgress?.();
          if (!retriable) deps.logger.error("unexpected batch error", errorFields(err));
          pauseForRetry(payload, key, err);
          return;
        }
        attempts.delete(key);
        deps.onWarehouse?.(true);
        deps.onProgress?.();
        record(deps.metrics, batch.topic, messages.length, outcome);
        // A revoked partition must not have offsets resolved by its old owner.
        if (payload.isStale()) return;
        payload.resolveOffset(slice[slice.length - 1]!.offset);
        handled += slice.length;
        await payload.heartbeat();
      }
      if (handled > 0) {
        const last = batch.messages[batch.messages.length - 1]!;
        const lag = Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n);
        deps.metrics.lag.set(Math.max(0, lag), {
          topic: batch.topic,
          partition: String(batch.partition),
        });
        deps.metrics.batchSize.observe(handled);
        deps.metrics.batchSeconds.observe((now() - started) / 1000);
        await payload.commitOffsetsIfNecessary();
      }
    },
    close() {
      for (const t of timers) clearTimeout(t);
      deps.metrics.paused.set(0);
      timers.clear();
    },
  };
}

function record(metrics: WorkerMetrics, topic: string, n: number, outcome: BatchOutcome): void {
  metrics.records.inc({ topic }, n);
  metrics.rowsUpserted.inc({}, outcome.rows);
  metrics.superseded.inc({}, outcome.superseded);
  for (const d of outcome.deadLetters) metrics.deadLetters.inc({ stage: d.stage });
  const rejected = outcome.deadLetters.filter((d) => d.stage === "write").length;
  if (rejected > 0) metrics.errors.inc({ kind: "reject" }, rejected);
}
