/**
 * The running worker: a consumer group feeding the one committer, a dead-letter producer, a
 * lag sampler and a watchdog. Built from the connection and sink passed in; `main.ts` owns the
 * process around it.
 */
import type { Logger } from "../shared/logger.ts";
import { errorFields } from "../shared/logger.ts";
import { createConsumerGroup } from "../shared/kafka/consumer_group.ts";
import { parsePartitionKey } from "../shared/kafka/partition_key.ts";
import { diagnoseKafkaError, KafkaSetupError } from "../shared/kafka/kafka_error.ts";
import { createKafkaProducer } from "../shared/kafka/producer.ts";
import type { KafkaConnection } from "../shared/kafka/settings.ts";
import { createCommitter } from "./batch/committer.ts";
import type { WorkerConfig } from "./config.ts";
import { decodeBatch, handleBatch } from "./batch/handle_batch.ts";
import type { RecordDecoder } from "./decode/record_decoder.ts";
import { createKafkaDeadLetters } from "./batch/kafka_dead_letters.ts";
import type { WarehouseSink } from "./warehouse/port.ts";
import { warehouseSetupError } from "./warehouse/warehouse_setup_error.ts";
import type { WorkerMetrics } from "./worker_metrics.ts";
import { noTracing, type Tracing } from "../shared/tracing.ts";
import { watchWrites } from "./write_watch.ts";
import { PartitionHolds } from "./batch/partition_holds.ts";
import { liveness, type LivenessSigns } from "./liveness.ts";
import { writeProblem } from "./write_problem.ts";

/** What `startWorker` needs. */
export interface WorkerDeps {
  connection: KafkaConnection;
  sink: WarehouseSink;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Decodes record values (default: on the main thread). */
  decoder?: RecordDecoder;
  /**
   * Called once when the worker cannot go on (watchdog, consumer failure, a batch the
   * committer gave up: see `failure.ts`): exit with `exitCode` (1 when not given).
   */
  onFatal: (reason: string, exitCode?: 1 | 2) => void;
  now?: () => Date;
  /** Spans (default: none): one per flush, with its decoding, statements and commit. */
  tracing?: Tracing;
}

/** A started worker. */
export interface RunningWorker {
  /** False once the watchdog saw the consumer loop stall. */
  live(): boolean;
  /**
   * In the group, the last warehouse contact succeeded, and no write has run for half of
   * `WAREHOUSE_WRITE_TIMEOUT_MS` or longer, and no partition it owns is held at a record of a
   * newer schema_version.
   */
  ready(): boolean;
  /** Why the worker is not ready, when it is not (a Kafka or warehouse problem). */
  problem(): string | undefined;
  /** Finishes the flush in progress, commits, leaves the group, closes the producer. */
  stop(): Promise<void>;
}

/** How often the consumer lag is sampled for `/metrics`. */
const LAG_SAMPLE_MS = 5_000;
/** An offset commit unanswered this long makes `/readyz` say so (half the request timeout). */
export const SLOW_COMMIT_MS = 15_000;

/**
 * Creates the table if missing and checks both topics (at once: the start waits for the slower
 * of the two, and the first that fails ends it), joins the group and starts consuming.
 * @throws {WarehouseSetupError} naming WAREHOUSE_URL when the warehouse cannot be reached.
 * @throws {WriteError} when the table cannot be created.
 * @throws {KafkaSetupError} naming the setting when Kafka cannot be used as configured, or
 *   gives no first answer within `KAFKA_START_TIMEOUT_MS`.
 */
export async function startWorker(
  config: Readonly<WorkerConfig>,
  deps: WorkerDeps,
): Promise<RunningWorker> {
  const log = deps.logger;
  const now = deps.now ?? (() => new Date());
  const tracing = deps.tracing ?? noTracing;
  const writes = watchWrites(deps.sink);
  // Half the deadline: a write that slow is hung, or close to being abandoned as hung.
  const slowWrite = () => writes.slowWrite(config.WAREHOUSE_WRITE_TIMEOUT_MS / 2);
  // An offset commit waits for the group coordinator; half the 30 s request timeout without an
  // answer means the coordinator (or the path to it) is stuck.
  const slowCommit = () => {
    const ms = committer.commitWaitingMs();
    return ms >= SLOW_COMMIT_MS
      ? `offset commit waiting for the group coordinator for ${Math.floor(ms / 1000)} s`
      : undefined;
  };

  const producer = createKafkaProducer(deps.connection, {
    logger: log,
    clientIdSuffix: "-dlq",
    startTimeoutMs: config.KAFKA_START_TIMEOUT_MS,
  });
  try {
    await Promise.all([
      deps.sink.ensureTable().catch(async (err) => {
        throw await warehouseSetupError(err, config.WAREHOUSE_URL);
      }),
      producer.connect([config.KAFKA_TOPIC, config.KAFKA_DLQ_TOPIC]),
    ]);
  } catch (err) {
    await producer.close().catch(() => {});
    throw err;
  }
  const group = createConsumerGroup(deps.connection, {
    groupId: config.KAFKA_GROUP_ID,
    topics: [config.KAFKA_TOPIC],
    sessionTimeoutMs: config.WORKER_SESSION_TIMEOUT_MS,
    maxBytes: config.WORKER_MAX_BYTES,
    maxWaitMs: config.WORKER_MAX_WAIT_MS,
    logger: log.child({ component: "consumer" }),
  });

  let stopping = false;
  let joined = false;
  let warehouseOk = true;
  let problem: string | undefined;
  let alive = true;
  // What the watchdog reads (`liveness.ts`); `now` and `partitions` are filled in when it looks.
  const started = Date.now();
  const signs: Omit<LivenessSigns, "now" | "partitions"> = {
    lastFetch: started,
    lastJoin: started,
    lastWrite: started,
    lastWriteFailed: false,
    writeSince: undefined,
    lastHeartbeat: started,
  };

  const deadLetters = createKafkaDeadLetters(producer, config.KAFKA_DLQ_TOPIC);
  // Partitions held at a record of a newer schema_version: shared by the batch and the
  // committer, reported by /readyz while this member owns one.
  const holds = new PartitionHolds();
  const held = () => holds.size === 0 ? undefined : holds.problem(group.assignment());
  const committer = createCommitter({
    holds,
    source: {
      pause: () => group.pause(),
      resume: () => group.resume(),
      commit: (offsets) => group.commit(offsets),
      assignment: () => group.assignment(),
      waiting: () => group.waiting(),
    },
    prepare: (messages) => decodeBatch(messages, deps.decoder, tracing),
    async handle(messages, decoded) {
      // A write in progress is the loop moving, up to its deadline: fetching waits behind it.
      signs.writeSince = Date.now();
      try {
        return await handleBatch(messages, {
          sink: writes.sink,
          deadLetters,
          now,
          tracing,
          deadLetterTopic: config.KAFKA_DLQ_TOPIC,
          holds,
        }, decoded);
      } finally {
        signs.writeSince = undefined;
      }
    },
    policy: {
      flushRows: config.WORKER_FLUSH_ROWS,
      flushBytes: config.WORKER_FLUSH_BYTES,
      flushMs: config.WORKER_FLUSH_MS,
      flushWhenIdle: config.WORKER_FLUSH_IDLE,
    },
    retry: { minMs: config.WORKER_RETRY_MIN_MS, maxMs: config.WORKER_RETRY_MAX_MS },
    commitIntervalMs: config.WORKER_COMMIT_INTERVAL_MS,
    metrics: deps.metrics,
    tracing,
    consumerGroup: config.KAFKA_GROUP_ID,
    logger: log.child({ component: "committer" }),
    onProgress: () => {
      signs.lastWrite = Date.now();
    },
    onFatal: (reason, exitCode) => {
      if (stopping) return;
      alive = false;
      deps.onFatal(reason, exitCode);
    },
    onWarehouse: (ok, err) => {
      warehouseOk = ok;
      signs.lastWriteFailed = !ok;
      problem = ok ? undefined : writeProblem(err, config.WAREHOUSE_WRITE_TIMEOUT_MS);
    },
  });

  // Liveness: correctness comes from the idempotent sink, liveness from exiting so that the
  // supervisor restarts a process whose consumer loop stopped moving. Heartbeats alone do not
  // count while partitions are owned: they come from the client's timer, not from the loop.
  const watchdog = setInterval(() => {
    if (stopping || !alive) return;
    const at = Date.now();
    const partitions = group.assignment().size;
    const seen = liveness({ ...signs, now: at, partitions }, {
      watchdogMs: config.WORKER_WATCHDOG_MS,
      writeTimeoutMs: config.WAREHOUSE_WRITE_TIMEOUT_MS,
      retryMaxMs: config.WORKER_RETRY_MAX_MS,
    });
    if (seen.alive) return;
    alive = false;
    log.error(`watchdog: ${seen.reason}`, {
      silentMs: seen.silentMs,
      partitions,
      lastHeartbeatMsAgo: at - signs.lastHeartbeat,
    });
    deps.onFatal("watchdog");
  }, Math.min(5_000, config.WORKER_WATCHDOG_MS / 4));

  const lagSampler = setInterval(async () => {
    try {
      for (const [key, lag] of await group.lag()) {
        const { topic, partition } = parsePartitionKey(key);
        deps.metrics.lag.set(Number(lag), { topic, partition: String(partition) });
      }
    } catch { /* sampled again later */ }
  }, LAG_SAMPLE_MS);

  try {
    await group.start({
      record(r) {
        committer.add(r);
      },
      error(err) {
        if (stopping) return;
        log.error("consumer failed", errorFields(err));
        deps.onFatal("consumer failed");
      },
      assigned(partitions) {
        signs.lastJoin = Date.now();
        joined = true;
        committer.reassigned(group.assignment());
        const assigned: Record<string, number[]> = {};
        for (const p of partitions) (assigned[p.topic] ??= []).push(p.partition);
        log.info("joined group", { groupId: config.KAFKA_GROUP_ID, assigned });
      },
      alive(sign) {
        const at = Date.now();
        if (sign === "fetch") signs.lastFetch = at;
        else if (sign === "join") signs.lastJoin = at;
        else signs.lastHeartbeat = at;
      },
    });
  } catch (err) {
    clearInterval(watchdog);
    clearInterval(lagSampler);
    await group.close().catch(() => {});
    await producer.close().catch(() => {});
    if (err instanceof KafkaSetupError) throw err;
    throw new KafkaSetupError(await diagnoseKafkaError(err, deps.connection), { cause: err });
  }

  return {
    live: () => alive,
    ready: () =>
      joined && warehouseOk && !stopping && slowWrite() === undefined &&
      slowCommit() === undefined && held() === undefined,
    problem: () => slowWrite() ?? slowCommit() ?? held() ?? problem ?? producer.lastProblem(),
    async stop() {
      stopping = true;
      clearInterval(watchdog);
      clearInterval(lagSampler);
      group.pause();
      // What is buffered was fetched but not committed: write it if the warehouse allows.
      await committer.stop({ flushRest: true });
      await group.close();
      await producer.close();
    },
  };
}
