/**
 * The worker's configuration: exactly the environment variables it reads, validated at start.
 *
 * @example
 * ```ts
 * const config = loadWorkerConfig((key) => Deno.env.get(key));
 * ```
 */
import { z } from "zod";
import { ConfigError, env, loadConfig, type ReadEnv } from "../shared/config.ts";

const topicName = () => z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, "expected a Kafka topic name");
const sqlName = () =>
  z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "expected a lower-case SQL identifier");

/** Every variable the worker reads, with its default. */
export const workerConfigSchema = z.object({
  /** Kafka bootstrap servers, comma-separated `host:port`. */
  KAFKA_BROKERS: env.hostPorts(),
  /** The topic of user events. */
  KAFKA_TOPIC: topicName().default("user_created"),
  /** Where records that can never be written go. */
  KAFKA_DLQ_TOPIC: topicName().default("user_created.dlq"),
  /** The consumer group; workers with the same group share the partitions. */
  KAFKA_GROUP_ID: z.string().min(1).max(255).default("user-pipeline-worker"),
  /** The kafkajs client id (shows in broker logs). */
  KAFKA_CLIENT_ID: z.string().min(1).max(255).default("user-pipeline-worker"),
  /** Use TLS to the brokers (Amazon MSK). */
  KAFKA_SSL: env.bool().default(false),
  /** Warehouse connection URL (`postgres://user:password@host:port/db`). */
  WAREHOUSE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  /** The SQL flavour of the warehouse. */
  WAREHOUSE_DIALECT: z.enum(["postgres", "redshift"]).default("postgres"),
  /** The schema that holds the `users` table (created if missing). */
  WAREHOUSE_SCHEMA: sqlName().default("public"),
  /** The table name. */
  WAREHOUSE_TABLE: sqlName().default("users"),
  /** How the postgres dialect stages a batch: COPY, multi-row INSERT, or auto (by size). */
  WAREHOUSE_STAGING: z.enum(["auto", "copy", "insert"]).default("auto"),
  /** The ops HTTP port (`/healthz`, `/readyz`, `/metrics`); 0 picks a free one. */
  WORKER_PORT: env.int(0, 65535).default(9090),
  /** The ops HTTP listen address. */
  WORKER_HOSTNAME: z.string().min(1).default("0.0.0.0"),
  /** At most this many records go into one warehouse transaction. */
  WORKER_MAX_BATCH_ROWS: env.int(1, 100_000).default(2_000),
  /** Fetch size bound per partition, in bytes (kafkajs `maxBytesPerPartition`). */
  WORKER_MAX_BYTES_PER_PARTITION: env.int(1_024, 64 * 1024 * 1024).default(1024 * 1024),
  /** Fetch size bound per request, in bytes (kafkajs `maxBytes`). */
  WORKER_MAX_BYTES: env.int(1_024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
  /** How long the broker may hold a fetch when there is no data, in ms. */
  WORKER_MAX_WAIT_MS: env.int(1, 30_000).default(500),
  /** Partitions processed at the same time (also the warehouse pool size). */
  WORKER_CONCURRENCY: env.int(1, 64).default(6),
  /** Threads that decode and validate records (0: on the main thread). */
  WORKER_DECODE_THREADS: env.int(0, 8).default(1),
  /** Consumer group session timeout in ms. */
  WORKER_SESSION_TIMEOUT_MS: env.int(6_000, 300_000).default(30_000),
  /** First retry delay after a transient warehouse or dead-letter error, in ms. */
  WORKER_RETRY_MIN_MS: env.int(1, 60_000).default(250),
  /** Longest retry delay, in ms. */
  WORKER_RETRY_MAX_MS: env.int(1, 600_000).default(15_000),
  /** Exit (for the supervisor to restart) when the consumer loop shows no life for this long. */
  WORKER_WATCHDOG_MS: env.int(5_000, 3_600_000).default(120_000),
  /** How long SIGTERM waits for the current batch and the group leave before exiting. */
  WORKER_SHUTDOWN_MS: env.int(1_000, 120_000).default(20_000),
  /** Log level. */
  LOG_LEVEL: env.logLevel().default("info"),
});

/** The worker's validated configuration. */
export type WorkerConfig = z.output<typeof workerConfigSchema>;

/**
 * Reads and validates the worker's variables.
 * @throws {ConfigError} naming every variable that is missing or malformed.
 */
export function loadWorkerConfig(readEnv: ReadEnv): Readonly<WorkerConfig> {
  const config = loadConfig(workerConfigSchema, readEnv);
  if (config.WORKER_RETRY_MAX_MS < config.WORKER_RETRY_MIN_MS) {
    throw new ConfigError([{
      variable: "WORKER_RETRY_MAX_MS",
      message: "must not be smaller than WORKER_RETRY_MIN_MS",
    }]);
  }
  return config;
}
