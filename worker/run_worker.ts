/**
 * The running worker: a kafkajs consumer group feeding `handleBatch`, a dead-letter producer,
 * and a watchdog. Built from clients passed in; `main.ts` owns the process around it.
 */
import type { Kafka } from "kafkajs";
import type { Logger } from "../shared/logger.ts";
import { errorFields } from "../shared/logger.ts";
import { PRODUCER_DEFAULTS } from "../shared/kafka.ts";
import { createPartitionCounter } from "../shared/kafka_send.ts";
import type { WorkerConfig } from "./config.ts";
import { createEachBatch } from "./each_batch.ts";
import { handleBatch } from "./handle_batch.ts";
import type { RecordDecoder } from "./record_decoder.ts";
import { createKafkaDeadLetters } from "./kafka_dead_letters.ts";
import type { WarehouseSink } from "./warehouse_sink.ts";
import type { WorkerMetrics } from "./worker_metrics.ts";

/** What `startWorker` needs. */
export interface WorkerDeps {
  kafka: Kafka;
  sink: WarehouseSink;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Decodes record values (default: on the main thread). */
  decoder?: RecordDecoder;
  /** Called once when the worker cannot go on (watchdog, consumer crash): exit non-zero. */
  onFatal: (reason: string) => void;
  now?: () => Date;
}

/** A started worker. */
export interface RunningWorker {
  /** False once the watchdog saw the consumer loop stall. */
  live(): boolean;
  /** In the group, and the last warehouse contact succeeded. */
  ready(): boolean;
  /** Finishes or abandons the current batch, leaves the group, closes the producer. */
  stop(): Promise<void>;
}

/**
 * Creates the table if missing, connects, joins the group and starts consuming.
 * @throws {WriteError} when the table cannot be created; kafkajs errors when Kafka is down.
 */
export async function startWorker(
  config: Readonly<WorkerConfig>,
  deps: WorkerDeps,
): Promise<RunningWorker> {
  const log = deps.logger;
  const now = deps.now ?? (() => new Date());
  await deps.sink.ensureTable();

  const producer = deps.kafka.producer(PRODUCER_DEFAULTS);
  // Partition counts for the dead-letter topic (sendAcknowledged picks partitions itself).
  const admin = deps.kafka.admin();
  const consumer = deps.kafka.consumer({
    groupId: config.KAFKA_GROUP_ID,
    allowAutoTopicCreation: false,
    sessionTimeout: config.WORKER_SESSION_TIMEOUT_MS,
    rebalanceTimeout: Math.max(60_000, config.WORKER_SESSION_TIMEOUT_MS),
    heartbeatInterval: Math.floor(config.WORKER_SESSION_TIMEOUT_MS / 10),
    maxBytesPerPartition: config.WORKER_MAX_BYTES_PER_PARTITION,
    maxBytes: config.WORKER_MAX_BYTES,
    maxWaitTimeInMs: config.WORKER_MAX_WAIT_MS,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
  });

  let stopping = false;
  let joined = false;
  let warehouseOk = true;
  let alive = true;
  let lastSign = Date.now();
  const sign = () => {
    lastSign = Date.now();
  };

  const deadLetters = createKafkaDeadLetters(
    producer,
    config.KAFKA_DLQ_TOPIC,
    createPartitionCounter(admin),
  );
  const handler = createEachBatch({
    handle: (messages) =>
      handleBatch(messages, { sink: deps.sink, deadLetters, now, decoder: deps.decoder }),
    metrics: deps.metrics,
    logger: log.child({ component: "batch" }),
    maxBatchRows: config.WORKER_MAX_BATCH_ROWS,
    retry: { minMs: config.WORKER_RETRY_MIN_MS, maxMs: config.WORKER_RETRY_MAX_MS },
    stopping: () => stopping,
    onProgress: sign,
    onWarehouse: (ok) => {
      warehouseOk = ok;
    },
  });

  const { FETCH_START, FETCH, HEARTBEAT, GROUP_JOIN, CRASH, REBALANCING } = consumer.events;
  for (const event of [FETCH_START, FETCH, HEARTBEAT, REBALANCING]) consumer.on(event, sign);
  consumer.on(GROUP_JOIN, (e) => {
    sign();
    joined = true;
    log.info("joined group", {
      groupId: e.payload.groupId,
      memberId: e.payload.memberId,
      assigned: e.payload.memberAssignment,
    });
  });
  consumer.on(CRASH, (e) => {
    log.error("consumer crashed", { restart: e.payload.restart, ...errorFields(e.payload.error) });
    if (!e.payload.restart && !stopping) deps.onFatal("consumer crashed");
  });

  // Liveness: kafkajs has been seen to hang after broker restarts; correctness comes from the
  // idempotent sink, liveness from exiting so that the supervisor restarts the process.
  const watchdog = setInterval(() => {
    if (stopping || !alive) return;
    if (Date.now() - lastSign > config.WORKER_WATCHDOG_MS) {
      alive = false;
      log.error("watchdog: no sign of the consumer loop", { silentMs: Date.now() - lastSign });
      deps.onFatal("watchdog");
    }
  }, Math.min(5_000, config.WORKER_WATCHDOG_MS / 4));

  try {
    await producer.connect();
    await admin.connect();
    await consumer.connect();
    await consumer.subscribe({ topic: config.KAFKA_TOPIC, fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitInterval: 1_000,
      partitionsConsumedConcurrently: config.WORKER_CONCURRENCY,
      eachBatch: (payload) => handler.eachBatch(payload),
    });
  } catch (err) {
    clearInterval(watchdog);
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    throw err;
  }

  return {
    live: () => alive,
    ready: () => joined && warehouseOk && !stopping,
    async stop() {
      stopping = true;
      clearInterval(watchdog);
      handler.close();
      // kafkajs waits for the batch in progress, commits resolved offsets and leaves the group.
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}
