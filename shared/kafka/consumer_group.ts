/**
 * Our consumer group: records of every assigned partition arrive through one callback, in
 * order within each partition, and offsets are committed only when the caller says so.
 *
 * - Fetching stops while the caller has `pause()`d (its buffer is full) and when the stream's
 *   own buffer holds `maxBufferedRecords`; memory is bounded by that and `maxBytes` per fetch.
 * - A missing topic is an error, not a new topic (auto-creation is off).
 * - `commit()` takes the offset of the next record to read (last written + 1) per partition.
 *   A committed offset never moves back: only partitions owned now are committed, and only
 *   past the offset committed when this member (re)joined (or since, by itself). A commit in
 *   flight when the member rejoins is emptied (see fixes/README.md: the client would retry it
 *   under the new generation with the old offsets; a zombie moved partitions back by ~2,500
 *   records that way). Dropped offsets are logged once per rejoin; their records are read
 *   again, which the idempotent sink makes harmless.
 *
 * @example
 * ```ts
 * import type { KafkaConnection } from "./settings.ts";
 * declare const connection: KafkaConnection, fatal: (err: Error) => void;
 *
 * const buffer: ConsumedRecord[] = [];
 * const group = createConsumerGroup(connection, { groupId: "g", topics: ["user_created"] });
 * await group.start({ record: (r) => buffer.push(r), error: (e) => fatal(e) });
 * await group.commit([{ topic: "user_created", partition: 0, offset: 42n }]);
 * ```
 */
import { isRoutineGroupError } from "./kafka_error.ts";
import { parsePartitionKey, partitionKey } from "./partition_key.ts";
import "../../fixes/env_guard.ts";
import { closeFailedConnections } from "../../fixes/failed_connections.ts";
import {
  type CommitOptions,
  Consumer,
  type Message,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
} from "@platformatic/kafka";
import type { Logger } from "../logger.ts";
import type { RecordHeaders } from "../record_headers.ts";
import { clientOptions, type ClientTuning } from "./client_options.ts";
import type { KafkaConnection } from "./settings.ts";

export type { RecordHeaders };

/** Joins tried at start while the coordinator is not ready (about 12 s of waits in all). */
const START_ATTEMPTS = 8;

/** One consumed record and where it came from. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Every header in record order, a repeated name with each of its values. */
  headers: RecordHeaders;
  /** The record's timestamp in ms since the epoch. */
  timestamp: number;
}

/** A partition's position. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

/** What `GroupHandlers.alive` saw. */
export type LifeSign = "fetch" | "join" | "heartbeat";

/** What the caller hears from the group. */
export interface GroupHandlers {
  /** One record; called synchronously as records arrive. */
  record(record: ConsumedRecord): void;
  /** The group's stream failed; the caller decides whether to stop. */
  error(err: Error): void;
  /** The partitions this member owns after a (re)join. */
  assigned?(partitions: readonly { topic: string; partition: number }[]): void;
  /**
   * A sign of life, for a watchdog: a fetch answered (records, none, or an error), the group
   * joined or rebalancing, or a heartbeat answered by the coordinator. A heartbeat says only
   * that the client's timer runs, not that records are read: tell them apart.
   */
  alive?(sign: LifeSign): void;
}

/** Options for `createConsumerGroup`. */
export interface ConsumerGroupOptions extends ClientTuning {
  groupId: string;
  topics: readonly string[];
  logger?: Logger;
  /** Session timeout in ms (default 30 s). */
  sessionTimeoutMs?: number;
  /** Heartbeat interval in ms (default a tenth of the session timeout). */
  heartbeatIntervalMs?: number;
  /** Most bytes one fetch answer may carry (default 4 MiB). */
  maxBytes?: number;
  /** How long the broker may hold a fetch while no data is there, in ms (default 500). */
  maxWaitMs?: number;
  /** Reopenings of a failed stream in a row before `error` is called (default 20). */
  maxRestarts?: number;
  /** Most records the stream buffers before it stops fetching (default 2048). */
  maxBufferedRecords?: number;
}

/** What the worker and redrive need of a consumer group. */
export interface ConsumerGroup {
  /** Joins the group and starts delivering records (from the committed offsets, else the start). */
  start(handlers: GroupHandlers): Promise<void>;
  /** Stops fetching (records already buffered may still arrive). */
  pause(): void;
  resume(): void;
  /** Commits the next offset to read per partition. */
  commit(offsets: readonly PartitionOffset[]): Promise<void>;
  /** The partitions this member owns now, as `topic:partition` keys. */
  assignment(): ReadonlySet<string>;
  /** Records fetched and buffered but not yet handed to `record` (0: nothing is waiting). */
  waiting(): number;
  /** Records between the committed position and the end of each owned partition. */
  lag(): Promise<Map<string, bigint>>;
  /** Stops the stream and leaves the group. */
  close(): Promise<void>;
}

export { partitionKey };

const EMPTY = new Uint8Array();

/** Creates a consumer group member; nothing connects before `start`. */
export function createConsumerGroup(
  connection: KafkaConnection,
  opts: ConsumerGroupOptions,
): ConsumerGroup {
  const sessionTimeout = opts.sessionTimeoutMs ?? 30_000;
  const consumer = new Consumer({
    ...clientOptions(connection, "", opts),
    groupId: opts.groupId,
    autocommit: false,
    sessionTimeout,
    rebalanceTimeout: Math.max(60_000, sessionTimeout),
    heartbeatInterval: opts.heartbeatIntervalMs ?? Math.floor(sessionTimeout / 10),
    maxBytes: opts.maxBytes ?? 4 * 1024 * 1024,
    maxWaitTime: opts.maxWaitMs ?? 500,
    minBytes: 1,
    highWaterMark: opts.maxBufferedRecords ?? 2048,
  });
  closeFailedConnections(consumer);
  let stream: Awaited<ReturnType<typeof consumer.consume>> | undefined;
  let owned = new Set<string>();
  // Offsets never move back: per owned partition, the committed offset at the last join (and
  // our own commits since); undefined until read after each join.
  let generation = 0;
  let floors: Promise<Map<string, bigint>> | undefined;
  const inFlight = new Set<CommitOptions>();
  let dropped = 0;
  const logDropped = (why: string) => {
    if (dropped === 0) return;
    opts.logger?.info("offsets not committed: the partitions were reassigned meanwhile", {
      partitions: dropped,
      why,
    });
    dropped = 0;
  };
  const readFloors = async (): Promise<Map<string, bigint>> => {
    const out = new Map<string, bigint>();
    const topics = (consumer.assignments ?? []).filter((a) => a.partitions.length > 0);
    if (topics.length === 0) return out;
    const committed = await consumer.listCommittedOffsets({ topics });
    for (const [topic, perPartition] of committed) {
      perPartition.forEach((offset, partition) => {
        if (offset >= 0n) out.set(partitionKey(topic, partition), offset);
      });
    }
    return out;
  };
  const floorsNow = () => {
    const g = generation;
    floors ??= readFloors().catch((err) => {
      // Read again at the next commit.
      if (g === generation) floors = undefined;
      throw err;
    });
    return floors;
  };
  let closing = false;
  const decoder = new TextDecoder();

  const toRecord = (
    m: Message<Uint8Array, Uint8Array, Uint8Array | undefined, Uint8Array | undefined>,
  ): ConsumedRecord => {
    // `headerEntries`, not the `headers` Map: the entries are the record's headers in order,
    // repeated names included, which is what a dead letter and a re-drive must carry on.
    const headers: RecordHeaders = m.headerEntries.map(([k, v]) => [
      k === undefined ? "" : decoder.decode(k),
      v ?? EMPTY,
    ]);
    return {
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      key: m.key ?? null,
      value: m.value ?? null,
      headers,
      timestamp: Number(m.timestamp),
    };
  };

  return {
    async start(handlers) {
      const assigned = () => {
        // A new generation: what was on its way belongs to the old one (see above).
        generation++;
        floors = undefined;
        for (const request of inFlight) {
          dropped += request.offsets.length;
          request.offsets.length = 0;
        }
        logDropped("rejoined while committing");
        owned = new Set(
          (consumer.assignments ?? []).flatMap((a) =>
            a.partitions.map((p) => partitionKey(a.topic, p))
          ),
        );
        handlers.assigned?.([...owned].map(parsePartitionKey));
        handlers.alive?.("join");
      };
      consumer.on("consumer:group:join", assigned);
      consumer.on("consumer:group:rebalance", () => handlers.alive?.("join"));
      consumer.on("consumer:heartbeat:end", () => handlers.alive?.("heartbeat"));
      // A stream that failed (a broker gone past the client's retries) is not usable again,
      // but the consumer is: open a new stream from the committed offsets, with a growing
      // delay. Only a stream that cannot be reopened for `maxRestarts` tries in a row is
      // reported as an error; a watchdog notices a loop that stops moving otherwise.
      let restarts = 0;
      const open = async () => {
        const next = await consumer.consume({
          topics: [...opts.topics],
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: MessagesStreamFallbackModes.EARLIEST,
          autocommit: false,
        });
        const paused = stream?.isPaused() ?? false;
        stream = next;
        if (paused) next.pause();
        next.on("data", (m) => {
          restarts = 0;
          handlers.record(toRecord(m));
        });
        next.on("fetch", () => handlers.alive?.("fetch"));
        next.on("error", (err) => void reopen(next, err));
      };
      const reopen = async (failed: typeof stream, err: Error) => {
        if (closing || failed !== stream) return;
        await failed?.close().catch(() => {});
        while (!closing) {
          if (++restarts > (opts.maxRestarts ?? 20)) {
            handlers.error(err);
            return;
          }
          const log = isRoutineGroupError(err) ? opts.logger?.info : opts.logger?.warn;
          log?.call(opts.logger, "consumer stream failed, reopening it", {
            attempt: restarts,
            error: err.message,
          });
          await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** restarts)));
          if (closing) return;
          try {
            await open();
            return;
          } catch (again) {
            err = again as Error;
          }
        }
      };
      // A coordinator that is loading or moving (a broker that just started or restarted) is
      // routine: join again a bounded number of times before the start fails.
      for (let attempt = 1;; attempt++) {
        try {
          await open();
          break;
        } catch (err) {
          if (closing || !isRoutineGroupError(err) || attempt >= START_ATTEMPTS) throw err;
          opts.logger?.info("the group coordinator is not ready, joining again", {
            attempt,
            error: (err as Error).message,
          });
          await new Promise((r) => setTimeout(r, Math.min(2_000, 250 * 2 ** attempt)));
        }
      }
      if (owned.size === 0) assigned(); // joined before the listener saw it
    },
    pause() {
      stream?.pause();
    },
    resume() {
      stream?.resume();
    },
    async commit(offsets) {
      if (offsets.length === 0) return;
      const g = generation;
      const floor = await floorsNow();
      if (g !== generation) {
        dropped += offsets.length;
        logDropped("rejoined before committing");
        return;
      }
      const request: CommitOptions = { offsets: [] };
      for (const o of offsets) {
        const k = partitionKey(o.topic, o.partition);
        const at = floor.get(k) ?? -1n;
        if (!owned.has(k) || o.offset < at) dropped++;
        else if (o.offset > at) request.offsets.push({ ...o, leaderEpoch: -1 });
      }
      logDropped("behind the committed offset, or no longer owned");
      if (request.offsets.length === 0) return;
      inFlight.add(request);
      try {
        // The client reads `offsets` again when it retries after a rejoin: emptied by then.
        await consumer.commit(request);
      } finally {
        inFlight.delete(request);
      }
      if (g === generation) {
        for (const o of request.offsets) floor.set(partitionKey(o.topic, o.partition), o.offset);
      }
    },
    assignment: () => owned,
    waiting: () => stream?.readableLength ?? 0,
    async lag() {
      const out = new Map<string, bigint>();
      const lags = await consumer.getLag({ topics: [...opts.topics] });
      for (const [topic, perPartition] of lags) {
        perPartition.forEach((lag, partition) => {
          const key = partitionKey(topic, partition);
          if (owned.has(key) && lag >= 0n) out.set(key, lag);
        });
      }
      return out;
    },
    async close() {
      closing = true;
      await stream?.close().catch(() => {});
      await consumer.close(true);
    },
  };
}
