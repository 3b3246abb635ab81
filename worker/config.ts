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
import { START_TIMEOUT_MS } from "../shared/kafka/first_answer.ts";
import { kafkaConnectionSchema, withKafkaChecks } from "../shared/kafka/settings.ts";
import { credentialSource } from "../shared/aws/credentials.ts";
import { postgresEnvProblems } from "../shared/postgres_env.ts";

const topicName = () => z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, "expected a Kafka topic name");
const sqlName = () =>
  z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "expected a lower-case SQL identifier");

/** Every variable the worker reads, with its default. */
export const workerConfigSchema = z.object({
  ...kafkaConnectionSchema,
  /** The topic of user events. */
  KAFKA_TOPIC: topicName().default("user_created"),
  /** Where records that can never be written go. */
  KAFKA_DLQ_TOPIC: topicName().default("user_created.dlq"),
  /** The consumer group; workers with the same group share the partitions. */
  KAFKA_GROUP_ID: env.name(255).default("user-pipeline-worker"),
  /** The Kafka client id (shows in broker logs and quotas). */
  KAFKA_CLIENT_ID: env.name(255).default("user-pipeline-worker"),
  /** How long the start waits for Kafka's first answer, in ms; then exit 1 naming KAFKA_BROKERS. */
  KAFKA_START_TIMEOUT_MS: env.int(1_000, 300_000).default(START_TIMEOUT_MS),
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
  /**
   * A warehouse write (one upsert) that has not ended after this many ms is abandoned with its
   * connection and retried (default by dialect).
   */
  WAREHOUSE_WRITE_TIMEOUT_MS: env.int(1_000, 3_600_000).optional(),
  /** Redshift: the S3 bucket large flushes are staged in (unset: INSERT only). */
  WAREHOUSE_S3_BUCKET: z.string().regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    "expected an S3 bucket name",
  ).optional(),
  /** Key prefix of the staged objects (a `/` is added at the end if missing). */
  WAREHOUSE_S3_PREFIX: z.string().regex(
    /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*\/?$/,
    "expected a key prefix of letters, digits, '.', '_', '-' and '/'",
  ).transform((p) => p.endsWith("/") ? p : `${p}/`).default("staging/"),
  /** The IAM role COPY reads S3 with: `default` (the cluster's default role) or a role ARN. */
  WAREHOUSE_S3_IAM_ROLE: z.string().regex(
    /^(?:default|arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_\/-]{1,512})$/,
    "expected default or an IAM role ARN (arn:aws:iam::123456789012:role/name)",
  ).default("default"),
  /** Flushes of at least this many rows are staged through S3; smaller ones by INSERT. */
  WAREHOUSE_S3_MIN_ROWS: env.int(1, 1_000_000).default(1_000),
  /** An S3-compatible endpoint (tests), addressed path-style; unset: AWS S3 of the region. */
  WAREHOUSE_S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** The ops HTTP port (`/healthz`, `/readyz`, `/metrics`); 0 picks a free one. */
  WORKER_PORT: env.int(0, 65535).default(9090),
  /** The ops HTTP listen address. */
  WORKER_HOSTNAME: env.listenHost().default("0.0.0.0"),
  /** A flush starts when the buffer holds this many records (default by dialect). */
  WORKER_FLUSH_ROWS: env.int(1, 1_000_000).optional(),
  /** … or this many bytes of record keys and values (default by dialect). */
  WORKER_FLUSH_BYTES: env.int(1_024, 1024 * 1024 * 1024).optional(),
  /** … or this long after its first record, in ms (default by dialect). */
  WORKER_FLUSH_MS: env.int(0, 3_600_000).optional(),
  /** … or at once when nothing more is waiting (default: true for postgres, false for redshift). */
  WORKER_FLUSH_IDLE: env.bool().optional(),
  /**
   * At least this long between two offset commits, in ms (offsets written meanwhile are merged
   * into the next one; 0: commit after every write, as soon as the commit before is answered).
   */
  WORKER_COMMIT_INTERVAL_MS: env.int(0, 60_000).default(1_000),
  /** Fetch size bound per request, in bytes. */
  WORKER_MAX_BYTES: env.int(1_024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
  /** How long the broker may hold a fetch when there is no data, in ms. */
  WORKER_MAX_WAIT_MS: env.int(1, 30_000).default(500),
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

/** The flush policy of each dialect, where no variable sets it. */
export const FLUSH_DEFAULTS = {
  // Low latency: write what is there as soon as nothing more is waiting.
  // 2,000 rows: as fast as 5,000 in the drain benchmark, with less memory (three buffers can
  // be in flight: one written, one decoded ahead, one filling).
  postgres: { rows: 2_000, bytes: 8 * 1024 * 1024, ms: 50, idle: true },
  // Few, large, serial loads (Redshift's guidance): collect for up to 10 s or 50k records;
  // three buffers of this size, decoded, stay within the task's 256 MiB heap.
  redshift: { rows: 50_000, bytes: 32 * 1024 * 1024, ms: 10_000, idle: false },
} as const;

/**
 * The write deadline of each dialect, where `WAREHOUSE_WRITE_TIMEOUT_MS` does not set it: far
 * above a normal write, so that only a hung one reaches it. A PostgreSQL flush (at most 2,000
 * rows) takes tens of ms; a Redshift one (up to 50,000 rows by COPY or INSERT, then a MERGE
 * that queues for the table's lock behind other workers) can legitimately take minutes.
 */
export const WRITE_TIMEOUT_DEFAULTS = { postgres: 30_000, redshift: 300_000 } as const;

type Parsed = z.output<typeof workerConfigSchema>;

/** The worker's validated configuration, flush settings and write deadline set for the dialect. */
export type WorkerConfig =
  & Omit<
    Parsed,
    | "WORKER_FLUSH_ROWS"
    | "WORKER_FLUSH_BYTES"
    | "WORKER_FLUSH_MS"
    | "WORKER_FLUSH_IDLE"
    | "WAREHOUSE_WRITE_TIMEOUT_MS"
  >
  & {
    WAREHOUSE_WRITE_TIMEOUT_MS: number;
    WORKER_FLUSH_ROWS: number;
    WORKER_FLUSH_BYTES: number;
    WORKER_FLUSH_MS: number;
    WORKER_FLUSH_IDLE: boolean;
  };

/** The rules between the S3 staging variables. */
function withS3Checks<S extends z.ZodObject>(schema: S): S {
  return schema.superRefine((raw, ctx) => {
    const c = raw as unknown as Parsed;
    const problem = (variable: keyof Parsed, message: string) =>
      ctx.addIssue({ code: "custom", path: [variable], message });
    if (c.WAREHOUSE_S3_BUCKET === undefined) return;
    if (c.WAREHOUSE_DIALECT !== "redshift") {
      problem("WAREHOUSE_S3_BUCKET", "only the redshift dialect stages through S3");
    }
    if (c.AWS_REGION === undefined && c.AWS_DEFAULT_REGION === undefined) {
      problem("AWS_REGION", "required with WAREHOUSE_S3_BUCKET (or AWS_DEFAULT_REGION)");
    }
    if (credentialSource(c) === undefined) {
      problem(
        "AWS_EC2_METADATA_DISABLED",
        "is true, and neither AWS_ACCESS_KEY_ID nor a container credentials endpoint is set: " +
          "WAREHOUSE_S3_BUCKET needs credentials",
      );
    }
  });
}

/**
 * Reads and validates the worker's variables, and the numeric `PG*` variables postgres.js reads
 * (`shared/postgres_env.ts`).
 * @throws {ConfigError} naming every variable that is missing or malformed.
 */
export function loadWorkerConfig(readEnv: ReadEnv): Readonly<WorkerConfig> {
  let parsed;
  // The PG* variables postgres.js reads itself are named beside the worker's own.
  const postgresProblems = postgresEnvProblems(readEnv);
  try {
    parsed = loadConfig(withS3Checks(withKafkaChecks(workerConfigSchema)), readEnv);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError([...err.problems, ...postgresProblems]);
    throw err;
  }
  const problems = [...postgresProblems];
  if (parsed.WORKER_RETRY_MAX_MS < parsed.WORKER_RETRY_MIN_MS) {
    problems.push({
      variable: "WORKER_RETRY_MAX_MS",
      message: "must not be smaller than WORKER_RETRY_MIN_MS",
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const defaults = FLUSH_DEFAULTS[parsed.WAREHOUSE_DIALECT];
  return Object.freeze({
    ...parsed,
    WORKER_FLUSH_ROWS: parsed.WORKER_FLUSH_ROWS ?? defaults.rows,
    WORKER_FLUSH_BYTES: parsed.WORKER_FLUSH_BYTES ?? defaults.bytes,
    WORKER_FLUSH_MS: parsed.WORKER_FLUSH_MS ?? defaults.ms,
    WORKER_FLUSH_IDLE: parsed.WORKER_FLUSH_IDLE ?? defaults.idle,
    WAREHOUSE_WRITE_TIMEOUT_MS: parsed.WAREHOUSE_WRITE_TIMEOUT_MS ??
      WRITE_TIMEOUT_DEFAULTS[parsed.WAREHOUSE_DIALECT],
  });
}
