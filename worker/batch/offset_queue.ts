/**
 * The offsets of written batches on their way to Kafka. What must stay true:
 *
 * - offsets are committed in order: one commit in flight at most, and offsets queued
 *   meanwhile are merged (the highest per partition) into the next one;
 * - only for partitions this member still owns (`assignment()` when the commit is sent), and
 *   never lower than what this member committed before for a partition;
 * - never past a partition's hold (`partition_holds.ts`): a held partition is committed up to
 *   the held offset at most;
 * - with `intervalMs`, a commit is sent at most that often: offsets written meanwhile wait,
 *   merged, for the interval to pass since the last send, unless `flush()` (stop, a rebalance
 *   starting) asks for them now. Each commit is a request the broker answers and a write to
 *   `__consumer_offsets`: a worker flushing a few rows at a time would otherwise commit after
 *   nearly every flush (about 60 a second at 1,000 events/s). What the interval costs: up to
 *   that much more is read again after a crash (merged as no-ops), and the committed position,
 *   hence the lag others see, trails the warehouse by up to that much.
 *
 * A failed commit is logged and not repeated: the rows are in the warehouse, so the records are
 * read again after a rebalance or restart and merged as no-ops.
 */
import { isRoutineGroupError } from "../../shared/kafka/kafka_error.ts";
import { partitionKey } from "../../shared/kafka/partition_key.ts";
import type { PartitionOffset } from "../../shared/kafka/consumer_group.ts";
import { errorFields, type Logger } from "../../shared/logger.ts";
import type { TraceSpan, Tracing } from "../../shared/tracing.ts";
import { kafkaAttributes } from "./flush_trace.ts";
import type { PartitionHolds } from "./partition_holds.ts";

/** What the queue needs. */
export interface OffsetQueueDeps {
  /** Commits offsets to the group (resolves when the coordinator answered). */
  commit(offsets: readonly PartitionOffset[]): Promise<void>;
  /** The partitions this member owns now, as `topic:partition` keys. */
  assignment(): ReadonlySet<string>;
  logger: Logger;
  now: () => number;
  /** Partitions held at a record of a newer version: no commit passes a hold. */
  holds?: PartitionHolds;
  /** Spans (tracing on only): one per commit, a child of the newest flush it carries. */
  tracing?: Tracing;
  /** The consumer group, named on the spans. */
  consumerGroup?: string;
  /** Called when the last queued commit has been answered. */
  onIdle?: () => void;
  /** Called as each commit is sent (counts the requests the broker serves). */
  onCommit?: () => void;
  /** At least this long between the sends of two commits, in ms (default 0: no floor). */
  intervalMs?: number;
  /** Calls `fn` after `ms` and returns what cancels it (default `setTimeout`): a fake clock. */
  timer?: (fn: () => void, ms: number) => () => void;
}

const realTimer = (fn: () => void, ms: number): () => void => {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
};

/** Offsets queued for Kafka, committed in order, one commit at a time. */
export class OffsetQueue {
  readonly #deps: OffsetQueueDeps;
  /** Offsets written to the warehouse and not yet sent to Kafka, by partition key. */
  #queued = new Map<string, PartitionOffset>();
  /** The spans of the flushes whose offsets are in `#queued` (tracing on only). */
  #spans: TraceSpan[] = [];
  /** What this member committed, by partition key: a commit never goes below it. */
  readonly #committed = new Map<string, bigint>();
  /** The loop sending commits, while one runs: at most one commit is in flight. */
  #sending: Promise<void> | null = null;
  /** When the commit on its way was sent (null: none is). */
  #sentAt: number | null = null;
  /** When the last commit was sent (null: none yet). */
  #lastSentAt: number | null = null;
  /** Ends the wait for the interval at once (set while the loop waits). */
  #wake: (() => void) | null = null;
  /** `flush()` callers waiting: no interval is waited for until they are answered. */
  #urgent = 0;

  constructor(deps: OffsetQueueDeps) {
    this.#deps = deps;
  }

  /** True while a commit is queued or on its way. */
  get busy(): boolean {
    return this.#sending !== null;
  }

  /** Resolves when nothing is queued or on its way. */
  settled(): Promise<void> {
    return this.#sending ?? Promise.resolve();
  }

  /**
   * Sends what is queued now, without waiting for the interval (stop),
   * and resolves when nothing is queued or on its way.
   */
  async flush(): Promise<void> {
    this.#urgent++;
    try {
      this.#wake?.();
      await this.settled();
    } finally {
      this.#urgent--;
    }
  }

  /** How long the commit on its way has waited for its answer, in ms (0: none is). */
  waitingMs(): number {
    return this.#sentAt === null ? 0 : Math.max(0, this.#deps.now() - this.#sentAt);
  }

  /**
   * Queues the next offsets of a written batch's partitions (`span`: its flush, ended once they
   * are committed) and sends them unless a commit is on its way.
   */
  push(offsets: Iterable<PartitionOffset>, span?: TraceSpan): void {
    if (span) this.#spans.push(span);
    for (const p of offsets) {
      // A held partition is committed up to its hold, never past it.
      const hold = this.#deps.holds?.at(p.topic, p.partition);
      const offset = hold !== undefined && hold < p.offset ? hold : p.offset;
      const k = partitionKey(p.topic, p.partition);
      const seen = this.#queued.get(k);
      if (!seen || offset > seen.offset) {
        this.#queued.set(k, { topic: p.topic, partition: p.partition, offset });
      }
    }
    this.#sending ??= this.#send().finally(() => {
      this.#sending = null;
      this.#deps.onIdle?.();
    });
  }

  /**
   * The owned partitions changed. What this member committed before says nothing of a
   * partition it owns again: another member may have committed it further meanwhile (the
   * group's commit keeps it from going back). Forget it, so that commits of re-read records
   * are sent and judged there.
   */
  reassigned(): void {
    this.#committed.clear();
  }

  /** Waits until `intervalMs` has passed since the last send, or `flush()` is called. */
  #spacing(): Promise<void> | undefined {
    const interval = this.#deps.intervalMs ?? 0;
    if (interval <= 0 || this.#lastSentAt === null || this.#urgent > 0) return;
    const wait = this.#lastSentAt + interval - this.#deps.now();
    if (wait <= 0) return;
    return new Promise<void>((resolve) => {
      const cancel = (this.#deps.timer ?? realTimer)(() => this.#wake?.(), wait);
      this.#wake = () => {
        this.#wake = null;
        cancel();
        resolve();
      };
    });
  }

  /** Commits what is queued, again and again until nothing is. */
  async #send(): Promise<void> {
    while (this.#queued.size > 0) {
      // No await without a wait: the first commit is sent within `push()`.
      const spacing = this.#spacing();
      if (spacing) await spacing;
      const next = this.#queued;
      this.#queued = new Map();
      const flushes = this.#spans;
      this.#spans = [];
      const owned = this.#deps.assignment();
      const offsets = [...next].filter(([k, o]) =>
        owned.has(k) && o.offset > (this.#committed.get(k) ?? -1n)
      ).map(([, o]) => o);
      if (offsets.length === 0) {
        for (const s of flushes) s.end();
        continue;
      }
      const span = this.#deps.tracing?.enabled && flushes.length > 0
        ? this.#startSpan(this.#deps.tracing, flushes, offsets)
        : undefined;
      this.#sentAt = this.#deps.now();
      this.#lastSentAt = this.#sentAt;
      this.#deps.onCommit?.();
      try {
        await this.#deps.commit(offsets);
        for (const o of offsets) this.#committed.set(partitionKey(o.topic, o.partition), o.offset);
      } catch (err) {
        span?.recordError(err, true);
        // The rows are in the warehouse; the records will be read again and merged as no-ops.
        // A commit refused by a rebalance is routine: the new owner reads those records again.
        const log = this.#deps.logger;
        (isRoutineGroupError(err) ? log.info : log.warn)(
          "offset commit failed; records will be read again",
          errorFields(err),
        );
      }
      this.#sentAt = null;
      span?.end();
      for (const s of flushes) s.end();
    }
  }

  /** The commit's span: a child of the newest flush it carries, linked to the others. */
  #startSpan(tracing: Tracing, flushes: TraceSpan[], offsets: PartitionOffset[]): TraceSpan {
    const newest = flushes.at(-1)!;
    return tracing.startSpan("commit offsets", {
      kind: "client",
      parent: newest,
      links: flushes.slice(0, -1).map((s) => s.context()),
      attributes: {
        ...kafkaAttributes(offsets[0]!.topic, this.#deps.consumerGroup),
        "messaging.operation.type": "settle",
        "messaging.operation.name": "commit",
        "user_pipeline.partitions": offsets.length,
      },
    });
  }
}
