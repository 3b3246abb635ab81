/**
 * The batcher's send lanes (`LaneRouter`): a message takes the lane of the broker leading the
 * partition it goes to.
 *
 * The partition is computed here, on the main thread, with the producer's own partitioner
 * (`partitionForKey`: the Java client's murmur2, which `shared/kafka/producer.ts` configures the
 * client with, modulo the partition count as the client does), and the leaders are the
 * producer's own metadata (`TopicProducer.leaders()`, which also refreshes what the client sends
 * by). So a lane's messages are the ones the client sends to that broker. The key's hash travels
 * with the message (`OutgoingMessage.partition`), so that the client does not compute the same
 * murmur2 again (about 1.6 µs per key, the client's being BigInt arithmetic).
 *
 * The leaders are read every `refreshMs` (5 s), and at once (at most every `stalledRefreshMs`)
 * when the batcher reports a stalled lane: when Kafka moves the partitions of a broker that
 * stopped answering to other leaders, new messages for them take the new leaders' lanes within
 * a refresh instead of waiting for the old broker. A read that fails keeps the last map (a
 * broker that hangs must not send every message back into one lane with it); until the first
 * read succeeds, every message takes `ONE_LANE`, as without lanes.
 */
import { partitionForKey } from "../../shared/kafka/partition_for_key.ts";
import { type Logger, silentLogger } from "../../shared/logger.ts";
import { type LaneRouter, ONE_LANE } from "./port.ts";

/** Options of `createLeaderLanes`. */
export interface LeaderLanesOptions {
  /** How often the leaders are read, in ms (default 5000). */
  refreshMs?: number;
  /** Soonest a stalled lane has the leaders read again after the last read began (default 1000). */
  stalledRefreshMs?: number;
  logger?: Logger;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

/** The lanes of the partition leaders, kept up to date while started. */
export interface LeaderLanes extends LaneRouter {
  /** Reads the leaders now and then every `refreshMs`, until `close()`. */
  start(): void;
  /** Reads the leaders now (sharing a read in flight); never rejects. */
  refresh(): Promise<void>;
  /** Stops reading (a read in flight ends on its own). */
  close(): void;
}

const UNKNOWN: readonly number[] = [ONE_LANE];
/**
 * The partitioner's hashes are below 2^31 (murmur2 `& 0x7fffffff`): modulo 2^31, `partitionForKey`
 * is the hash itself, which the client takes modulo the partition count as it would its own.
 */
const HASH_RANGE = 2 ** 31;

/**
 * The lanes of `readLeaders()`'s map: node id of the leader of each partition, -1 for none.
 * @example
 * ```ts
 * import type { Logger } from "../../shared/logger.ts";
 * import { type BatcherOptions, createBatcher } from "./batcher.ts";
 * import type { TopicProducer } from "./port.ts";
 * declare const producer: TopicProducer, limits: BatcherOptions, logger: Logger;
 *
 * const lanes = createLeaderLanes(() => producer.leaders(), { logger });
 * lanes.start();
 * const batcher = createBatcher(producer, limits, { lanes });
 * ```
 */
export function createLeaderLanes(
  readLeaders: () => Promise<readonly number[]>,
  opts: LeaderLanesOptions = {},
): LeaderLanes {
  const refreshMs = opts.refreshMs ?? 5_000;
  const stalledRefreshMs = opts.stalledRefreshMs ?? 1_000;
  const now = opts.now ?? performance.now.bind(performance);
  const log = opts.logger ?? silentLogger;
  let leaders: readonly number[] | null = null;
  let current = UNKNOWN;
  let version = 0;
  let reading: Promise<void> | null = null;
  let lastReadAt = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let failing = false;

  const apply = (next: readonly number[]) => {
    if (next.length === 0) throw new Error("the topic has no partitions");
    if (failing) log.info("partition leaders read again");
    failing = false;
    if (leaders !== null && sameLeaders(leaders, next)) return;
    leaders = [...next];
    current = [...new Set(leaders.map((l) => l < 0 ? ONE_LANE : l))].sort((a, b) => a - b);
    version++;
    log.info("partition leaders", { leaders });
  };

  const refresh = (): Promise<void> => {
    if (reading) return reading;
    lastReadAt = now();
    reading = readLeaders().then(apply).catch((err) => {
      if (!failing) {
        log.warn("cannot read the partition leaders; keeping the last known", {
          error: (err as Error)?.message ?? String(err),
          known: leaders !== null,
        });
      }
      failing = true;
    }).finally(() => {
      reading = null;
    });
    return reading;
  };

  const tick = async () => {
    timer = undefined;
    await refresh();
    if (running && timer === undefined) timer = setTimeout(tick, refreshMs);
  };

  return {
    laneOf(message) {
      if (leaders === null) return ONE_LANE;
      // The hash goes to the client with the message: murmur2 runs once per message.
      message.partition ??= partitionForKey(message.key, HASH_RANGE);
      const leader = leaders[message.partition % leaders.length]!;
      return leader < 0 ? ONE_LANE : leader;
    },
    current: () => current,
    version: () => version,
    stalled() {
      if (running && reading === null && now() - lastReadAt >= stalledRefreshMs) void refresh();
    },
    start() {
      if (running) return;
      running = true;
      void tick();
    },
    refresh,
    close() {
      running = false;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

function sameLeaders(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
