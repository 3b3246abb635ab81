/**
 * The one committer of a worker process: records fetched from every assigned partition go into
 * one buffer; the committer writes it as one warehouse transaction, then commits the offsets
 * of every partition that had records in it, while the next buffer fills.
 *
 * - A buffer is sealed when it reaches `flushRows` or `flushBytes`, `flushMs` after its first
 *   record, and, with `flushWhenIdle`, at once when nothing more is waiting (the consumer's
 *   own buffer is empty), so a quiet stream is written immediately.
 * - Writes are serial, but the batch after the one being written is prepared (decoded and
 *   validated, off the main thread) while it is written: one sealed batch waits ahead, the
 *   next buffer fills behind it, and when that one is full too, fetching pauses until the
 *   write is done. So the warehouse does not wait for decoding, nor decoding for it.
 * - A failed write does what `decide()` (`failure.ts`) says: `retry` (warehouse or dead-letter
 *   topic down) keeps the batch and writes it again after a backoff delay, nothing committed
 *   meanwhile and fetching paused once the next buffer is full; `stop` calls `onFatal`; an
 *   unexpected error is retried `UNEXPECTED_FAILURE_LIMIT` times in a row, then `onFatal` too;
 *   `isolate` should never get here (`handle` dead-letters refused rows) and is logged as the
 *   bug it is, and counted like an unexpected error.
 * - Once a batch is given up (a fatal failure, or one abandoned at shutdown), nothing after it
 *   is written or committed: a later batch's offsets would pass the records of the one given
 *   up, which are not in the warehouse.
 * - Offsets are committed to Kafka after the warehouse transaction, off the write path: the
 *   next flush starts while they are on their way (an offset commit costs about as much as a
 *   small warehouse transaction). At most one commit is in flight; offsets of flushes that
 *   end meanwhile are merged into the next one, so commits stay in order.
 * - A partition revoked by a rebalance: its records still in the buffer are dropped (the new
 *   owner reads them again from the committed offset), and a flush that had some of them
 *   commits only the partitions this member still owns. No offset is ever committed for rows
 *   that are not in the warehouse.
 * - With tracing on, each flush is a span (`flush_trace.ts`) from its seal until its offsets
 *   are committed, linked to every record's context; its preparation and write run with it
 *   active, so their spans are its children, and the commit is a child span of the newest
 *   flush it carries (linked to the others). With tracing off, no span object is made.
 */
import { isRoutineGroupError } from "../../shared/kafka/kafka_error.ts";
import type { Logger } from "../../shared/logger.ts";
import { errorFields } from "../../shared/logger.ts";
import { backoffDelay } from "./backoff_delay.ts";
import { decide, UNEXPECTED_FAILURE_LIMIT } from "../failure.ts";
import type { ConsumedMessage } from "../consume/consumed_message.ts";
import type { BatchOutcome } from "./handle_batch.ts";
import type { WorkerMetrics } from "../worker_metrics.ts";
import type { ConsumedRecord, PartitionOffset } from "../../shared/kafka/consumer_group.ts";
import type { TraceSpan, Tracing } from "../../shared/tracing.ts";
import { kafkaAttributes, recordOutcome, startFlushSpan } from "./flush_trace.ts";
import type { PartitionHolds } from "./partition_holds.ts";

/** When a buffer is written. */
export interface FlushPolicy {
  flushRows: number;
  flushBytes: number;
  flushMs: number;
  /** Write at once when nothing more is waiting. */
  flushWhenIdle: boolean;
}

/** What the committer needs of the consumer group. */
export interface CommitterSource {
  pause(): void;
  resume(): void;
  commit(offsets: readonly PartitionOffset[]): Promise<void>;
  assignment(): ReadonlySet<string>;
  /** Records fetched but not yet handed over (0: nothing more is waiting). */
  waiting(): number;
}

/** What the committer needs; `P` is what `prepare` makes of a batch for `handle`. */
export interface CommitterDeps<P = undefined> {
  source: CommitterSource;
  /**
   * Work on a sealed batch that may run while the batch before it is written (decoding);
   * throws to have it done again.
   */
  prepare?(messages: readonly ConsumedMessage[]): Promise<P>;
  /** Writes a batch (any partitions, offset order within each); throws to retry it. */
  handle(messages: readonly ConsumedMessage[], prepared: P): Promise<BatchOutcome>;
  policy: FlushPolicy;
  retry: { minMs: number; maxMs: number; random?: () => number };
  metrics: WorkerMetrics;
  logger: Logger;
  /** After every flush and retry decision (feeds the watchdog). */
  onProgress?: () => void;
  /**
   * The committer cannot go on (a `stop` failure, or too many unexpected ones in a row): it has
   * given up the batch, writes and commits nothing more, and the process should exit with
   * `exitCode` (the supervisor restarts it from the committed offsets).
   */
  onFatal?: (reason: string, exitCode: 1 | 2) => void;
  /** Warehouse health for `/readyz`. */
  onWarehouse?: (ok: boolean) => void;
  now?: () => number;
  /** Spans (default: none): one per flush, see `flush_trace.ts`. */
  tracing?: Tracing;
  /** The consumer group, named on the spans. */
  consumerGroup?: string;
  /**
   * Partitions held at a record of a newer version (shared with `handle`): their records at
   * or past the hold are dropped on arrival, and no commit passes a hold.
   */
  holds?: PartitionHolds;
}

/** The running committer. */
export interface Committer {
  /** Takes one consumed record (call in arrival order). */
  add(record: ConsumedRecord): void;
  /** The owned partitions changed: drop buffered records of partitions no longer owned. */
  reassigned(owned: ReadonlySet<string>): void;
  /** Resolves when the buffer is empty and no flush runs (for tests and shutdown). */
  drained(): Promise<void>;
  /** How long the offset commit on its way has waited for its answer, in ms (0: none is). */
  commitWaitingMs(): number;
  /**
   * Stops taking records, finishes the flush in progress (and writes what is buffered when
   * `flushRest`), and resolves when nothing more runs.
   */
  stop(opts?: { flushRest?: boolean }): Promise<void>;
}

interface Buffer {
  messages: ConsumedMessage[];
  bytes: number;
  /** When its first record arrived. */
  since: number;
  /** Per partition: the next offset to commit and the records, kept as records arrive. */
  partitions: Map<string, PartitionRecords>;
}

interface PartitionRecords extends PartitionOffset {
  records: number;
}

const emptyBuffer = (): Buffer => ({ messages: [], bytes: 0, since: 0, partitions: new Map() });

/** Adds one record's partition and offset to `partitions`. */
function track(partitions: Map<string, PartitionRecords>, r: PartitionOffset): void {
  const k = key(r.topic, r.partition);
  const p = partitions.get(k);
  if (p === undefined) {
    partitions.set(k, {
      topic: r.topic,
      partition: r.partition,
      offset: r.offset + 1n,
      records: 1,
    });
    return;
  }
  p.records++;
  if (r.offset + 1n > p.offset) p.offset = r.offset + 1n;
}

/** A sealed batch and its preparation, started when it was sealed. */
interface Sealed<P> {
  batch: Buffer;
  prepared: Promise<P>;
  /** The flush's span (tracing on only). */
  span?: TraceSpan;
}

const key = (topic: string, partition: number) => `${topic}:${partition}`;

/** The global `setImmediate` of Deno's Node compatibility (`main.ts` makes it fast). */
const immediate = globalThis as unknown as {
  setImmediate(fn: () => void): unknown;
  clearImmediate(handle: unknown): void;
};

/** Starts a committer; it writes only after `add` gives it records. */
export function createCommitter<P = undefined>(deps: CommitterDeps<P>): Committer {
  const now = deps.now ?? Date.now;
  const { policy, metrics, logger } = deps;
  let buffer = emptyBuffer();
  let flushing: Promise<void> | null = null;
  /** Sealed, being prepared, written when the write in progress ends. */
  let ahead: Sealed<P> | null = null;
  let paused = false;
  let stopped = false;
  /** A batch was given up: nothing after it may be written or committed. */
  let halted = false;
  /** Unexpected failures since the last successful write (bounded by the failure table). */
  let unexpectedInARow = 0;
  let ageTimer: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: unknown;
  let retryTimer: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | undefined;
  let drainWaiters: (() => void)[] = [];
  const committed = new Map<string, bigint>();
  /** Offsets written to the warehouse and not yet sent to Kafka, by partition. */
  let toCommit = new Map<string, PartitionOffset>();
  /** The spans of the flushes whose offsets are in `toCommit` (tracing on only). */
  let toCommitSpans: TraceSpan[] = [];
  let committing: Promise<void> | null = null;
  /** When the commit request on its way was sent. */
  let commitSentAt: number | null = null;
  const tracing = deps.tracing?.enabled ? deps.tracing : undefined;

  const full = () =>
    buffer.messages.length >= policy.flushRows || buffer.bytes >= policy.flushBytes;

  const settleDrain = () => {
    if (flushing || ahead || committing || buffer.messages.length > 0) return;
    for (const w of drainWaiters) w();
    drainWaiters = [];
  };

  const clearTimers = () => {
    clearTimeout(ageTimer);
    if (idleTimer !== undefined) immediate.clearImmediate(idleTimer);
    ageTimer = idleTimer = undefined;
  };

  /** Decides whether the buffer is sealed now; called after each change. */
  const consider = () => {
    if (stopped || ahead || buffer.messages.length === 0) return;
    if (full() || now() - buffer.since >= policy.flushMs) {
      seal();
      return;
    }
    ageTimer ??= setTimeout(() => {
      ageTimer = undefined;
      consider();
    }, Math.max(0, policy.flushMs - (now() - buffer.since)));
    if (policy.flushWhenIdle && idleTimer === undefined) {
      // After the records that arrived together: the next macrotask, when the consumer has
      // handed over what it had. `setImmediate`, not `setTimeout(…, 0)`, which waits 1 ms in
      // Deno: the worker's `main.ts` installs a `setImmediate` without that delay.
      idleTimer = immediate.setImmediate(() => {
        idleTimer = undefined;
        if (deps.source.waiting() === 0) seal();
        else consider();
      });
    }
  };

  const prepare = (batch: Buffer, span?: TraceSpan): Promise<P> => {
    const start = () =>
      deps.prepare ? deps.prepare(batch.messages) : Promise.resolve(undefined as P);
    const prepared = span && tracing ? tracing.withSpan(span, start) : start();
    prepared.catch(() => {}); // awaited by the write; a failure is handled there
    return prepared;
  };

  /** A sealed batch: its span (tracing on) and its preparation start now. */
  const toSealed = (batch: Buffer): Sealed<P> => {
    if (!tracing) return { batch, prepared: prepare(batch) };
    const span = startFlushSpan(tracing, batch.messages, deps.consumerGroup);
    return { batch, prepared: prepare(batch, span), span };
  };

  /** Seals the buffer: its preparation starts now, its write when the one in progress ends. */
  const seal = () => {
    if (stopped || ahead || buffer.messages.length === 0) return;
    clearTimers();
    ahead = toSealed(buffer);
    buffer = emptyBuffer();
    if (paused) {
      paused = false;
      metrics.paused.set(0);
      deps.source.resume();
    }
    write();
  };

  /** Starts writing the sealed batch unless a write is in progress. */
  const write = () => {
    if (stopped || flushing || !ahead) return;
    const sealed = ahead;
    ahead = null;
    flushing = run(sealed).finally(() => {
      flushing = null;
      write();
      consider();
      settleDrain();
    });
    consider(); // the buffer behind may be sealed now
  };

  const run = async (sealed: Sealed<P>): Promise<void> => {
    const { batch, span } = sealed;
    const handle = async () => deps.handle(batch.messages, await sealed.prepared);
    for (let attempt = 0;; attempt++) {
      const started = now();
      let outcome: BatchOutcome;
      try {
        outcome = await (span && tracing ? tracing.withSpan(span, handle) : handle());
      } catch (err) {
        const decision = decide(err);
        if (decision.action === "stop") {
          giveUp(sealed, err, decision.kind, decision.exitCode);
          return;
        }
        // `isolate` here is a bug: refused rows are isolated and dead-lettered by `handle`.
        const unexpected = decision.kind === "unexpected" || decision.action === "isolate";
        if (unexpected) unexpectedInARow++;
        metrics.errors.inc({
          kind: decision.kind === "dead_letter_topic" ? "dead_letter" : "retry",
        });
        deps.onWarehouse?.(false);
        deps.onProgress?.();
        if (stopped) {
          halted = true;
          logger.warn("batch abandoned at shutdown; it will be read again", {
            records: batch.messages.length,
            ...errorFields(err),
          });
          span?.recordError(err, true);
          span?.end();
          return;
        }
        if (unexpectedInARow >= UNEXPECTED_FAILURE_LIMIT) {
          giveUp(sealed, err, "unexpected", 1);
          return;
        }
        span?.recordError(err);
        const delayMs = backoffDelay(attempt, deps.retry);
        const fields = {
          records: batch.messages.length,
          attempt: attempt + 1,
          delayMs,
          ...errorFields(err),
        };
        if (decision.action === "isolate") {
          logger.error("bug: rows refused by the warehouse reached the committer, retrying later", {
            ...fields,
            expected: "handle() isolates refused rows and dead-letters them",
          });
        } else if (unexpected) {
          logger.error("unexpected batch error, retrying later", {
            ...fields,
            inARow: unexpectedInARow,
            limit: UNEXPECTED_FAILURE_LIMIT,
          });
        } else {
          logger.warn("write failed, retrying later", fields);
        }
        await new Promise<void>((resolve) => {
          retryTimer = { timer: setTimeout(resolve, delayMs), resolve };
        });
        retryTimer = undefined;
        if (stopped) {
          halted = true;
          span?.end();
          return;
        }
        // A failed preparation is done again; a finished one is kept.
        sealed.prepared = sealed.prepared.then((p) => p, () => prepare(batch, span));
        continue;
      }
      unexpectedInARow = 0;
      deps.onWarehouse?.(true);
      deps.onProgress?.();
      record(batch, outcome, (now() - started) / 1000);
      if (span) recordOutcome(span, outcome);
      queueCommit(batch, span);
      return;
    }
  };

  /**
   * Gives up `sealed` for good: nothing after it is written or committed, and the process is
   * told to exit (`onFatal`).
   */
  const giveUp = (sealed: Sealed<P>, err: unknown, kind: string, exitCode: 1 | 2) => {
    halted = stopped = true;
    clearTimers();
    const reason = kind === "unexpected"
      ? `unexpected batch error ${unexpectedInARow} times in a row`
      : `batch failed: ${kind}`;
    logger.error("cannot go on; the batch will be read again after a restart", {
      records: sealed.batch.messages.length,
      reason,
      exitCode,
      ...errorFields(err),
    });
    sealed.span?.recordError(err, true);
    sealed.span?.end();
    ahead?.span?.end();
    ahead = null;
    buffer = emptyBuffer();
    deps.onFatal?.(reason, exitCode);
  };

  const record = (batch: Buffer, outcome: BatchOutcome, seconds: number) => {
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
    if (deps.holds) metrics.partitionsHeld.set(deps.holds.size);
    for (const p of batch.partitions.values()) metrics.records.inc({ topic: p.topic }, p.records);
    metrics.rowsUpserted.inc({}, outcome.rows);
    metrics.superseded.inc({}, outcome.superseded);
    metrics.stale.inc({}, outcome.stale);
    for (const d of outcome.deadLetters) metrics.deadLetters.inc({ stage: d.stage });
    const rejected = outcome.deadLetters.filter((d) => d.stage === "write").length;
    if (rejected > 0) metrics.errors.inc({ kind: "reject" }, rejected);
    metrics.batchSize.observe(batch.messages.length);
    metrics.batchSeconds.observe(seconds);
  };

  /** Takes the offsets of a written batch; sends them unless a commit is on its way. */
  const queueCommit = (batch: Buffer, span?: TraceSpan) => {
    if (span) toCommitSpans.push(span);
    for (const [k, p] of batch.partitions) {
      // A held partition is committed up to its hold, never past it.
      const hold = deps.holds?.at(p.topic, p.partition);
      const offset = hold !== undefined && hold < p.offset ? hold : p.offset;
      const seen = toCommit.get(k);
      if (!seen || offset > seen.offset) {
        toCommit.set(k, { topic: p.topic, partition: p.partition, offset });
      }
    }
    committing ??= sendCommits().finally(() => {
      committing = null;
      settleDrain();
    });
  };

  /** Commits what is queued, again and again until nothing is. */
  const sendCommits = async () => {
    while (toCommit.size > 0) {
      const next = toCommit;
      toCommit = new Map();
      const flushes = toCommitSpans;
      toCommitSpans = [];
      const owned = deps.source.assignment();
      const offsets = [...next].filter(([k, o]) =>
        owned.has(k) && o.offset > (committed.get(k) ?? -1n)
      ).map(([, o]) => o);
      if (offsets.length === 0) {
        for (const s of flushes) s.end();
        continue;
      }
      const span = tracing && flushes.length > 0 ? startCommitSpan(flushes, offsets) : undefined;
      commitSentAt = now();
      try {
        await deps.source.commit(offsets);
        for (const o of offsets) committed.set(key(o.topic, o.partition), o.offset);
      } catch (err) {
        span?.recordError(err, true);
        // The rows are in the warehouse; the records will be read again and merged as no-ops.
        // A commit refused by a rebalance is routine: the new owner reads those records again.
        (isRoutineGroupError(err) ? logger.info : logger.warn)(
          "offset commit failed; records will be read again",
          errorFields(err),
        );
      }
      commitSentAt = null;
      span?.end();
      for (const s of flushes) s.end();
    }
  };

  /** The commit's span: a child of the newest flush it carries, linked to the others. */
  const startCommitSpan = (flushes: TraceSpan[], offsets: PartitionOffset[]) => {
    const newest = flushes.at(-1)!;
    return tracing!.startSpan("commit offsets", {
      kind: "client",
      parent: newest,
      links: flushes.slice(0, -1).map((s) => s.context()),
      attributes: {
        ...kafkaAttributes(offsets[0]!.topic, deps.consumerGroup),
        "messaging.operation.type": "settle",
        "messaging.operation.name": "commit",
        "user_pipeline.partitions": offsets.length,
      },
    });
  };

  return {
    add(r) {
      if (stopped) return;
      if (deps.holds && deps.holds.size > 0 && deps.holds.holds(r.topic, r.partition, r.offset)) {
        metrics.held.inc();
        return;
      }
      const bytes = (r.value?.byteLength ?? 0) + (r.key?.byteLength ?? 0);
      if (buffer.messages.length === 0) buffer.since = now();
      buffer.messages.push({
        topic: r.topic,
        partition: r.partition,
        offset: String(r.offset),
        key: r.key,
        value: r.value,
        headers: r.headers,
      });
      buffer.bytes += bytes;
      track(buffer.partitions, r);
      consider();
      if (full() && !paused) {
        // Sealed and written batches ahead: stop fetching until the write ends.
        paused = true;
        metrics.paused.set(deps.source.assignment().size);
        deps.source.pause();
      }
    },
    reassigned(owned) {
      // What this member committed before says nothing of a partition it owns again: another
      // member may have committed it further meanwhile (the group's commit keeps it from going
      // back). Forget it, so that commits of re-read records are sent and judged there.
      committed.clear();
      const before = buffer.messages.length;
      if (before === 0) return;
      const kept = buffer.messages.filter((m) => owned.has(key(m.topic, m.partition)));
      if (kept.length === before) return;
      buffer.messages = kept;
      buffer.bytes = kept.reduce(
        (n, m) => n + (m.value?.byteLength ?? 0) + (m.key?.byteLength ?? 0),
        0,
      );
      for (const k of [...buffer.partitions.keys()]) {
        if (!owned.has(k)) buffer.partitions.delete(k);
      }
      logger.info("dropped buffered records of revoked partitions", {
        records: before - kept.length,
      });
      if (kept.length === 0) clearTimers();
      settleDrain();
    },
    drained() {
      if (!flushing && !ahead && !committing && buffer.messages.length === 0) {
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => drainWaiters.push(resolve));
    },
    commitWaitingMs: () => commitSentAt === null ? 0 : Math.max(0, now() - commitSentAt),
    async stop(opts = {}) {
      stopped = true;
      clearTimers();
      if (retryTimer) {
        clearTimeout(retryTimer.timer);
        retryTimer.resolve();
      }
      await flushing;
      // The last flushes; stopped, so a failure abandons them instead of retrying. None after
      // a batch given up: their offsets would pass its records.
      const rest = halted ? [] : [ahead, buffer.messages.length > 0 ? { batch: buffer } : null];
      if (halted) ahead?.span?.end();
      ahead = null;
      ahead = null;
      buffer = emptyBuffer();
      for (const sealed of rest) {
        if (!sealed) continue;
        if (opts.flushRest && !halted) {
          await run("prepared" in sealed ? sealed : toSealed(sealed.batch));
        } else if ("span" in sealed) sealed.span?.end();
      }
      await committing;
      metrics.paused.set(0);
      settleDrain();
    },
  };
}
