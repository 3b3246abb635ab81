/**
 * The committer's write-and-retry loop: writes one sealed batch (its preparation, then
 * `handle`) and, when that fails, does what `decide()` (`failure.ts`) says:
 *
 * - `retry` (warehouse or dead-letter topic down): writes it again after a backoff delay, for
 *   as long as the outage lasts;
 * - `stop`: gives the batch up and calls `onFatal` with the table's exit code;
 * - an unexpected error: retried, but `UNEXPECTED_FAILURE_LIMIT` in a row (no successful write
 *   between) gives the batch up and calls `onFatal` with exit code 1;
 * - `isolate` should never get here (`handle` dead-letters refused rows): logged as the bug it
 *   is, and counted like an unexpected error.
 *
 * A batch given up, or abandoned at shutdown, halts the writer: nothing after it may be
 * written or committed, since a later batch's offsets would pass its records.
 */
import { errorFields, type Logger } from "../../shared/logger.ts";
import type { TraceSpan, Tracing } from "../../shared/tracing.ts";
import { decide, UNEXPECTED_FAILURE_LIMIT } from "../failure.ts";
import type { WorkerMetrics } from "../worker_metrics.ts";
import type { ConsumedRecord } from "../../shared/kafka/consumer_group.ts";
import { backoffDelay } from "./backoff_delay.ts";
import { recordOutcome, startFlushSpan } from "./flush_trace.ts";
import type { BatchOutcome } from "./handle_batch.ts";
import type { PartitionHolds } from "./partition_holds.ts";
import type { RecordBuffer } from "./record_buffer.ts";

/** A sealed batch and its preparation, started when it was sealed. */
export interface Sealed<P> {
  batch: RecordBuffer;
  prepared: Promise<P>;
  /** The flush's span (tracing on only). */
  span?: TraceSpan;
}

/** What the writer needs; `P` is what `prepare` makes of a batch for `handle`. */
export interface BatchWriterDeps<P> {
  /** Work on a sealed batch that may run while the one before is written; throws to redo. */
  prepare?(messages: readonly ConsumedRecord[]): Promise<P>;
  /** Writes a batch; throws to have `decide()` say what follows. */
  handle(messages: readonly ConsumedRecord[], prepared: P): Promise<BatchOutcome>;
  retry: { minMs: number; maxMs: number; random?: () => number };
  metrics: WorkerMetrics;
  logger: Logger;
  now: () => number;
  /** Spans, when tracing is on (undefined: none is made). */
  tracing?: Tracing;
  consumerGroup?: string;
  holds?: PartitionHolds;
  /** After every write and retry decision (feeds the watchdog). */
  onProgress?: () => void;
  /** Warehouse health for `/readyz`, with the error of a failed write. */
  onWarehouse?: (ok: boolean, err?: unknown) => void;
  /** A batch was given up: the process should exit with `exitCode`. */
  onFatal?: (reason: string, exitCode: 1 | 2) => void;
}

/** Writes sealed batches, one at a time, retrying as the failure table says. */
export class BatchWriter<P> {
  readonly #deps: BatchWriterDeps<P>;
  /** Set by `stop()`: a failure abandons the batch instead of retrying it. */
  #stopping = false;
  /** A batch was given up or abandoned: nothing after it may be written or committed. */
  #halted = false;
  /** Unexpected failures since the last successful write (bounded by the failure table). */
  #unexpectedInARow = 0;
  /** The backoff delay in progress: `stop()` ends it early. */
  #retryTimer: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | undefined;

  constructor(deps: BatchWriterDeps<P>) {
    this.#deps = deps;
  }

  /** True once a batch was given up or abandoned: write nothing after it. */
  get halted(): boolean {
    return this.#halted;
  }

  /** Seals `batch`: its span (tracing on) and its preparation start now. */
  seal(batch: RecordBuffer): Sealed<P> {
    const tracing = this.#deps.tracing;
    if (!tracing) return { batch, prepared: this.#prepare(batch) };
    const span = startFlushSpan(tracing, batch.messages, this.#deps.consumerGroup);
    return { batch, prepared: this.#prepare(batch, span), span };
  }

  /**
   * Writes `sealed`, retrying as decided. Returns its outcome once written, or undefined when
   * it was given up (`onFatal` was called) or abandoned at shutdown; then `halted` is true.
   */
  async write(sealed: Sealed<P>): Promise<BatchOutcome | undefined> {
    const { batch, span } = sealed;
    const { tracing, metrics, logger } = this.#deps;
    const handle = async () => this.#deps.handle(batch.messages, await sealed.prepared);
    for (let attempt = 0;; attempt++) {
      const started = this.#deps.now();
      let outcome: BatchOutcome;
      try {
        outcome = await (span && tracing ? tracing.withSpan(span, handle) : handle());
      } catch (err) {
        const decision = decide(err);
        if (decision.action === "stop") {
          this.#giveUp(sealed, err, `batch failed: ${decision.kind}`, decision.exitCode);
          return undefined;
        }
        // `isolate` here is a bug: refused rows are isolated and dead-lettered by `handle`.
        const unexpected = decision.kind === "unexpected" || decision.action === "isolate";
        if (unexpected) this.#unexpectedInARow++;
        metrics.errors.inc({
          kind: decision.kind === "dead_letter_topic" ? "dead_letter" : "retry",
        });
        this.#deps.onWarehouse?.(false, err);
        this.#deps.onProgress?.();
        if (this.#stopping) {
          this.#halted = true;
          logger.warn("batch abandoned at shutdown; it will be read again", {
            records: batch.messages.length,
            ...errorFields(err),
          });
          span?.recordError(err, true);
          span?.end();
          return undefined;
        }
        if (this.#unexpectedInARow >= UNEXPECTED_FAILURE_LIMIT) {
          const reason = `unexpected batch error ${this.#unexpectedInARow} times in a row`;
          this.#giveUp(sealed, err, reason, 1);
          return undefined;
        }
        span?.recordError(err);
        const delayMs = backoffDelay(attempt, this.#deps.retry);
        this.#logRetry(decision.action, unexpected, err, {
          records: batch.messages.length,
          attempt: attempt + 1,
          delayMs,
        });
        await new Promise<void>((resolve) => {
          this.#retryTimer = { timer: setTimeout(resolve, delayMs), resolve };
        });
        this.#retryTimer = undefined;
        if (this.#stopping) {
          this.#halted = true;
          span?.end();
          return undefined;
        }
        // A failed preparation is done again; a finished one is kept.
        sealed.prepared = sealed.prepared.then((p) => p, () => this.#prepare(batch, span));
        continue;
      }
      this.#unexpectedInARow = 0;
      this.#deps.onWarehouse?.(true);
      this.#deps.onProgress?.();
      this.#record(batch, outcome, (this.#deps.now() - started) / 1000);
      if (span) recordOutcome(span, outcome);
      return outcome;
    }
  }

  /** From now on a failure abandons the batch; a backoff delay in progress ends at once. */
  stop(): void {
    this.#stopping = true;
    if (this.#retryTimer) {
      clearTimeout(this.#retryTimer.timer);
      this.#retryTimer.resolve();
    }
  }

  #prepare(batch: RecordBuffer, span?: TraceSpan): Promise<P> {
    const { prepare, tracing } = this.#deps;
    const start = () => prepare ? prepare(batch.messages) : Promise.resolve(undefined as P);
    const prepared = span && tracing ? tracing.withSpan(span, start) : start();
    prepared.catch(() => {}); // awaited by the write; a failure is handled there
    return prepared;
  }

  #logRetry(
    action: "retry" | "isolate",
    unexpected: boolean,
    err: unknown,
    fields: { records: number; attempt: number; delayMs: number },
  ): void {
    const { logger } = this.#deps;
    if (action === "isolate") {
      logger.error("bug: rows refused by the warehouse reached the committer, retrying later", {
        ...fields,
        ...errorFields(err),
        expected: "handle() isolates refused rows and dead-letters them",
      });
    } else if (unexpected) {
      logger.error("unexpected batch error, retrying later", {
        ...fields,
        ...errorFields(err),
        inARow: this.#unexpectedInARow,
        limit: UNEXPECTED_FAILURE_LIMIT,
      });
    } else {
      logger.warn("write failed, retrying later", { ...fields, ...errorFields(err) });
    }
  }

  /** Gives `sealed` up for good and tells the process to exit (`onFatal`). */
  #giveUp(sealed: Sealed<P>, err: unknown, reason: string, exitCode: 1 | 2): void {
    this.#halted = true;
    this.#deps.logger.error("cannot go on; the batch will be read again after a restart", {
      records: sealed.batch.messages.length,
      reason,
      exitCode,
      ...errorFields(err),
    });
    sealed.span?.recordError(err, true);
    sealed.span?.end();
    this.#deps.onFatal?.(reason, exitCode);
  }

  /** The metrics and logs of a written batch. */
  #record(batch: RecordBuffer, outcome: BatchOutcome, seconds: number): void {
    const { metrics, logger, holds } = this.#deps;
    if (outcome.held > 0) metrics.held.inc({}, outcome.held);
    for (const h of outcome.newHolds) {
      logger.warn("partition held: a record's schema_version is newer than this worker", {
        topic: h.topic,
        partition: h.partition,
        offset: String(h.offset),
        schemaVersion: h.version,
        action: "upgrade the workers; the partition goes on from this offset, nothing is lost",
      });
    }
    if (holds) metrics.partitionsHeld.set(holds.size);
    for (const p of batch.partitions.values()) metrics.records.inc({ topic: p.topic }, p.records);
    metrics.rowsUpserted.inc({}, outcome.rows);
    metrics.superseded.inc({}, outcome.superseded);
    metrics.stale.inc({}, outcome.stale);
    for (const d of outcome.deadLetters) metrics.deadLetters.inc({ stage: d.stage });
    const rejected = outcome.deadLetters.filter((d) => d.stage === "write").length;
    if (rejected > 0) metrics.errors.inc({ kind: "reject" }, rejected);
    metrics.batchSize.observe(batch.messages.length);
    metrics.batchSeconds.observe(seconds);
  }
}
