/**
 * The one committer of a worker process: records fetched from every assigned partition go into
 * one buffer; the committer writes it as one warehouse transaction, then commits the offsets
 * of every partition that had records in it, while the next buffer fills.
 *
 * It is made of named parts, and this file only joins them: `record_buffer.ts` (the buffer),
 * `seal_policy.ts` (when a buffer is sealed: size, age, idle), `batch_writer.ts` (the write
 * and what a failure leads to) and `offset_queue.ts` (commits in order, one in flight, only for
 * owned partitions, never past a hold). What the whole promises:
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
 *   end meanwhile are merged into the next one, so commits stay in order. With
 *   `commitIntervalMs`, commits are also sent at most that often (merged the same way);
 *   `stop()` sends what waits at once. A rebalance does not: a commit sent while
 *   the group rebalances is refused and made the group rejoin more often (12 and 7 joins
 *   after `coordinator-blackhole` heals, against 3–4 without); the new owner reads up to one
 *   interval again, merged as no-ops.
 * - A partition revoked by a rebalance: its records still in the buffer are dropped (the new
 *   owner reads them again from the committed offset), and a flush that had some of them
 *   commits only the partitions this member still owns. No offset is ever committed for rows
 *   that are not in the warehouse.
 * - With tracing on, each flush is a span (`flush_trace.ts`) from its seal until its offsets
 *   are committed, linked to every record's context; its preparation and write run with it
 *   active, so their spans are its children, and the commit is a child span of the newest
 *   flush it carries (linked to the others). With tracing off, no span object is made.
 */
import type { Logger } from "../../shared/logger.ts";
import type { BatchOutcome } from "./handle_batch.ts";
import type { WorkerMetrics } from "../worker_metrics.ts";
import type { ConsumedRecord, PartitionOffset } from "../../shared/kafka/consumer_group.ts";
import type { Tracing } from "../../shared/tracing.ts";
import type { PartitionHolds } from "./partition_holds.ts";
import { BatchWriter, type Sealed } from "./batch_writer.ts";
import { OffsetQueue } from "./offset_queue.ts";
import { RecordBuffer } from "./record_buffer.ts";
import { type FlushPolicy, SealPolicy } from "./seal_policy.ts";

export type { FlushPolicy } from "./seal_policy.ts";

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
  prepare?(messages: readonly ConsumedRecord[]): Promise<P>;
  /** Writes a batch (any partitions, offset order within each); throws to retry it. */
  handle(messages: readonly ConsumedRecord[], prepared: P): Promise<BatchOutcome>;
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
  /** Warehouse health for `/readyz`, with the error of a failed write. */
  onWarehouse?: (ok: boolean, err?: unknown) => void;
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
  /** At least this long between two offset commits' sends, in ms (default 0: no floor). */
  commitIntervalMs?: number;
  /** Calls `fn` after `ms`, returns what cancels it (default `setTimeout`): a fake clock. */
  timer?: (fn: () => void, ms: number) => () => void;
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

/** Starts a committer; it writes only after `add` gives it records. */
export function createCommitter<P = undefined>(deps: CommitterDeps<P>): Committer {
  const now = deps.now ?? Date.now;
  const { metrics, logger } = deps;
  const tracing = deps.tracing?.enabled ? deps.tracing : undefined;

  /** Records collected since the last seal. */
  let buffer = new RecordBuffer();
  /** Sealed, being prepared, written when the write in progress ends. */
  let ahead: Sealed<P> | null = null;
  /** The write in progress, if any (one at a time). */
  let flushing: Promise<void> | null = null;
  /** Fetching paused: a full buffer waits behind a sealed batch. */
  let paused = false;
  /** No more records taken nor batches written (`stop()`, or a batch given up). */
  let stopped = false;
  /** `drained()` callers, resolved when nothing is buffered, written or committed. */
  let drainWaiters: (() => void)[] = [];

  const writer = new BatchWriter<P>({
    ...(deps.prepare ? { prepare: (m: readonly ConsumedRecord[]) => deps.prepare!(m) } : {}),
    handle: deps.handle,
    retry: deps.retry,
    metrics,
    logger,
    now,
    ...(tracing ? { tracing } : {}),
    ...(deps.consumerGroup ? { consumerGroup: deps.consumerGroup } : {}),
    ...(deps.holds ? { holds: deps.holds } : {}),
    ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    ...(deps.onWarehouse ? { onWarehouse: deps.onWarehouse } : {}),
    ...(deps.onFatal ? { onFatal: deps.onFatal } : {}),
  });
  const offsets = new OffsetQueue({
    commit: (o) => deps.source.commit(o),
    assignment: () => deps.source.assignment(),
    logger,
    now,
    ...(deps.holds ? { holds: deps.holds } : {}),
    ...(tracing ? { tracing } : {}),
    ...(deps.consumerGroup ? { consumerGroup: deps.consumerGroup } : {}),
    onIdle: () => settleDrain(),
    onCommit: () => metrics.offsetCommits.inc(),
    ...(deps.commitIntervalMs ? { intervalMs: deps.commitIntervalMs } : {}),
    ...(deps.timer ? { timer: deps.timer } : {}),
  });
  const seals = new SealPolicy(deps.policy, {
    now,
    waiting: () => deps.source.waiting(),
    seal: () => seal(),
    recheck: () => consider(),
  });

  const idle = () => !flushing && !ahead && !offsets.busy && buffer.records === 0;

  const settleDrain = () => {
    if (!idle()) return;
    for (const w of drainWaiters) w();
    drainWaiters = [];
  };

  /** Decides whether the buffer is sealed now; called after each change. */
  const consider = () => {
    if (stopped || ahead) return;
    seals.consider(buffer);
  };

  /** Seals the buffer: its preparation starts now, its write when the one in progress ends. */
  const seal = () => {
    if (stopped || ahead || buffer.records === 0) return;
    seals.clear();
    ahead = writer.seal(buffer);
    buffer = new RecordBuffer();
    resumeIfRoom();
    write();
  };

  /** Resumes fetching paused for a full buffer once the buffer has room again. */
  const resumeIfRoom = () => {
    if (!paused || seals.full(buffer)) return;
    paused = false;
    metrics.paused.set(0);
    deps.source.resume();
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

  /** Writes one sealed batch and queues its offsets; a batch given up halts the committer. */
  const run = async (sealed: Sealed<P>): Promise<void> => {
    const outcome = await writer.write(sealed);
    if (outcome) {
      offsets.push(sealed.batch.partitions.values(), sealed.span);
      return;
    }
    if (writer.halted && !stopped) halt();
  };

  /** After a batch given up: nothing behind it is written (its offsets would pass it). */
  const halt = () => {
    stopped = true;
    seals.clear();
    ahead?.span?.end();
    ahead = null;
    buffer = new RecordBuffer();
  };

  return {
    add(r) {
      if (stopped) return;
      if (deps.holds && deps.holds.size > 0 && deps.holds.holds(r.topic, r.partition, r.offset)) {
        metrics.held.inc();
        return;
      }
      buffer.push(r, now());
      consider();
      if (seals.full(buffer) && !paused) {
        // Sealed and written batches ahead: stop fetching until the write ends.
        paused = true;
        metrics.paused.set(deps.source.assignment().size);
        deps.source.pause();
      }
    },
    reassigned(owned) {
      offsets.reassigned();
      const dropped = buffer.keepOwned(owned);
      if (dropped === 0) return;
      logger.info("dropped buffered records of revoked partitions", { records: dropped });
      if (buffer.records === 0) seals.clear();
      // An emptied buffer is never sealed, so only this resumes a fetch paused for it.
      if (!stopped) resumeIfRoom();
      settleDrain();
    },
    drained() {
      if (idle()) return Promise.resolve();
      return new Promise<void>((resolve) => drainWaiters.push(resolve));
    },
    commitWaitingMs: () => offsets.waitingMs(),
    async stop(opts = {}) {
      stopped = true;
      seals.clear();
      writer.stop();
      await flushing;
      // The last flushes; stopped, so a failure abandons them instead of retrying. None after
      // a batch given up or abandoned: their offsets would pass its records.
      const rest: (Sealed<P> | RecordBuffer | null)[] = [ahead, buffer.records > 0 ? buffer : null];
      ahead = null;
      buffer = new RecordBuffer();
      for (const next of rest) {
        if (!next) continue;
        const sealed = next instanceof RecordBuffer ? undefined : next;
        if (opts.flushRest && !writer.halted) {
          await run(sealed ?? writer.seal(next as RecordBuffer));
        } else {
          sealed?.span?.end();
        }
      }
      // What waits for the commit interval goes now.
      await offsets.flush();
      metrics.paused.set(0);
      settleDrain();
    },
  };
}
