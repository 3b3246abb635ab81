/**
 * The worker process: configuration from the environment, JSON logs on stderr, the ops HTTP
 * port, and signals. SIGTERM (or SIGINT) finishes or abandons the current batch, leaves the
 * group and exits 0 within `WORKER_SHUTDOWN_MS`; a second SIGINT exits at once (130).
 *
 * Exit codes (`failure.ts` decides them, `docs/failure.md` lists them): 0 after a clean stop, 130
 * after a second SIGINT, 2 for bad configuration or permissions, 1 after any other fatal error
 * (watchdog, consumer crash, a batch given up, start-up failure: a warehouse or Kafka that cannot
 * be used, or gives no first answer within `WAREHOUSE_CONNECT_TIMEOUT_S` or
 * `KAFKA_START_TIMEOUT_MS`).
 */
import postgres from "postgres";
import { ConfigError } from "../shared/config.ts";
import { type KafkaConnection, kafkaConnection } from "../shared/kafka/settings.ts";
import { createLogger, errorFields } from "../shared/logger.ts";
import { listenFailure } from "../shared/listen_failure.ts";
import { createRegistry } from "../shared/metrics.ts";
import { createTracing } from "../shared/otel_tracing.ts";
import { assertNarrowPermissions } from "../shared/permissions.ts";
import { onStopSignals } from "../shared/stop_signals.ts";
import { loadWorkerConfig, type WorkerConfig } from "./config.ts";
import { createOpsHandler } from "./ops_handler.ts";
import { installFastImmediate } from "../fixes/fast_immediate.ts";
import { connectNoDelay, type SocketTarget } from "../fixes/no_delay_socket.ts";
import { createPostgresDialect } from "./warehouse/postgres_dialect.ts";
import { inlineDecoder } from "./decode/record_decoder.ts";
import { createThreadDecoder } from "./decode/thread_decoder.ts";
import { createRedshiftDialect } from "./warehouse/redshift_dialect.ts";
import { type RunningWorker, startWorker } from "./run_worker.ts";
import { createCredentialChain, type CredentialSource } from "../shared/aws/credentials.ts";
import { createS3Client } from "./warehouse/s3_client.ts";
import { createS3Staging, type ObjectStaging } from "./warehouse/s3_staging.ts";
import { createReplaceablePool } from "./warehouse/replaceable_pool.ts";
import { createWarehouseSink } from "./warehouse/sink.ts";
import { WAREHOUSE_CONNECT_TIMEOUT_S } from "./warehouse/warehouse_setup_error.ts";
import { createWorkerMetrics } from "./worker_metrics.ts";
import { decide } from "./failure.ts";

try {
  await assertNarrowPermissions();
} catch (err) {
  createLogger().error("bad permissions", errorFields(err));
  Deno.exit(2);
}

function readConfig(): Readonly<WorkerConfig> {
  try {
    return loadWorkerConfig((key) => Deno.env.get(key));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger().error("bad configuration", { ...errorFields(err), problems: err.problems });
    Deno.exit(2);
  }
}

const config = readConfig();
// Deno's setImmediate waits ~1 ms, and postgres.js defers every write with it.
installFastImmediate();
const logger = createLogger({ level: config.LOG_LEVEL }).child({ component: "worker" });
const registry = createRegistry();
const metrics = createWorkerMetrics(registry);
const redshift = config.WAREHOUSE_DIALECT === "redshift";
const pgOptions = {
  // One committer, one transaction at a time: one connection.
  max: 1,
  // Also the bound on the warehouse's first answer at start (see warehouse_setup_error.ts).
  connect_timeout: WAREHOUSE_CONNECT_TIMEOUT_S,
  idle_timeout: 300,
  onnotice: () => {},
  fetch_types: !redshift,
  connection: { application_name: "user-pipeline-worker" },
  // Nagle off (about 90 ms saved per batch), for plain TCP only: see no_delay_socket.ts.
  ...(plainTcp(config.WAREHOUSE_URL) && !redshift
    ? { socket: (target: SocketTarget) => connectNoDelay(target) }
    : {}),
};
// A variable, not a literal: postgres.js's types do not declare its `socket` option. A write
// that outlives WAREHOUSE_WRITE_TIMEOUT_MS is abandoned with its pool, and a new pool opened.
const pool = createReplaceablePool(() => postgres(config.WAREHOUSE_URL, pgOptions));
const table = { schema: config.WAREHOUSE_SCHEMA, table: config.WAREHOUSE_TABLE };
// Redshift with a bucket: large flushes are staged as gzip CSV in S3 and loaded with COPY.
const bucket = redshift ? config.WAREHOUSE_S3_BUCKET : undefined;
let staging: ObjectStaging | undefined;
let credentialSource: CredentialSource | undefined;
if (bucket) {
  let credentials;
  try {
    credentials = createCredentialChain(config);
  } catch (err) {
    // A container URI it must not send the token to: a configuration error.
    createLogger().error("bad configuration", errorFields(err));
    Deno.exit(2);
  }
  credentialSource = credentials.source;
  const region = (config.AWS_REGION ?? config.AWS_DEFAULT_REGION)!; // required with a bucket
  const store = createS3Client(
    {
      bucket,
      region,
      ...(config.WAREHOUSE_S3_ENDPOINT ? { endpoint: config.WAREHOUSE_S3_ENDPOINT } : {}),
    },
    { credentials },
  );
  staging = createS3Staging(store, { logger: logger.child({ component: "s3-staging" }) });
}
const dialect = redshift
  ? createRedshiftDialect(table, {
    ...(bucket
      ? {
        s3: {
          bucket,
          prefix: config.WAREHOUSE_S3_PREFIX,
          iamRole: config.WAREHOUSE_S3_IAM_ROLE,
          minRows: config.WAREHOUSE_S3_MIN_ROWS,
        },
      }
      : {}),
  })
  : createPostgresDialect(table, { staging: config.WAREHOUSE_STAGING });
// Spans only with OTEL_DENO=true, which makes Deno export them (see shared/otel_tracing.ts).
const tracing = createTracing("user-pipeline-worker");
const sink = createWarehouseSink(pool, dialect, {
  tracing,
  writeTimeoutMs: config.WAREHOUSE_WRITE_TIMEOUT_MS,
  ...(staging ? { staging } : {}),
  onColumnsAdded: (columns) =>
    logger.info("added the columns of a newer event version to the table", {
      table: `${table.schema}.${table.table}`,
      columns,
    }),
});
if (redshift && !bucket) {
  logger.warn("redshift staging by INSERT only: WAREHOUSE_S3_BUCKET is not set", {
    hint: "large flushes load faster through S3 and COPY",
  });
}
let connection: KafkaConnection;
try {
  connection = await kafkaConnection(config, config.KAFKA_CLIENT_ID);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  createLogger().error("bad configuration", { ...errorFields(err), problems: err.problems });
  Deno.exit(2);
}

const decoder = config.WORKER_DECODE_THREADS > 0
  ? createThreadDecoder(config.WORKER_DECODE_THREADS)
  : inlineDecoder;

let worker: RunningWorker | undefined;
let exiting = false;

// Before the server listens, so that a signal sent after the "listening" line finds its listener
// (not Deno's default, which ends the process at once). A second Ctrl-C exits at once (see
// shared/stop_signals.ts).
onStopSignals((signal) => void exit(0, signal), { logger });
function serveOps(): Deno.HttpServer {
  const address = { hostname: config.WORKER_HOSTNAME, port: config.WORKER_PORT };
  try {
    return Deno.serve(
      { ...address, onListen: ({ port }) => logger.info("listening", { port }) },
      createOpsHandler({
        registry,
        live: () => worker?.live() ?? true,
        ready: () => worker?.ready() ?? false,
        problem: () => worker?.problem(),
      }),
    );
  } catch (err) {
    // A taken port is one line naming WORKER_PORT, not an uncaught stack trace.
    const message = listenFailure(err, { host: "WORKER_HOSTNAME", port: "WORKER_PORT" }, address);
    if (message === undefined) throw err;
    logger.error(message);
    Deno.exit(1);
  }
}
const server = serveOps();

/** True when the URL asks for no TLS (postgres.js's default is no TLS unless `sslmode`/`ssl`). */
function plainTcp(url: string): boolean {
  const params = new URL(url).searchParams;
  const mode = params.get("sslmode") ?? params.get("ssl");
  return mode === null || mode === "disable" || mode === "false";
}

async function exit(code: number, reason: string): Promise<never> {
  if (exiting) return await new Promise<never>(() => {});
  exiting = true;
  logger.info("stopping", { reason });
  const deadline = setTimeout(() => {
    logger.error("shutdown took too long, exiting anyway", { ms: config.WORKER_SHUTDOWN_MS });
    Deno.exit(code === 0 ? 1 : code);
  }, config.WORKER_SHUTDOWN_MS);
  try {
    await worker?.stop();
  } catch (err) {
    logger.error("error while leaving the group", errorFields(err));
  }
  decoder.close();
  await pool.end({ timeout: 5 }).catch(() => {});
  await server.shutdown().catch(() => {});
  clearTimeout(deadline);
  logger.info("stopped", { exitCode: code });
  Deno.exit(code);
}

try {
  worker = await startWorker(config, {
    connection,
    sink,
    logger,
    metrics,
    decoder,
    tracing,
    onFatal: (reason, exitCode = 1) => void exit(exitCode, reason),
  });
  logger.info("started", {
    topic: config.KAFKA_TOPIC,
    groupId: config.KAFKA_GROUP_ID,
    dialect: dialect.name,
    schema: config.WAREHOUSE_SCHEMA,
    writeTimeoutMs: config.WAREHOUSE_WRITE_TIMEOUT_MS,
    staging: redshift
      ? bucket
        ? {
          s3: `s3://${bucket}/${config.WAREHOUSE_S3_PREFIX}`,
          fromRows: config.WAREHOUSE_S3_MIN_ROWS,
          iamRole: config.WAREHOUSE_S3_IAM_ROLE,
          credentials: credentialSource,
        }
        : "insert"
      : config.WAREHOUSE_STAGING,
    flush: {
      rows: config.WORKER_FLUSH_ROWS,
      bytes: config.WORKER_FLUSH_BYTES,
      ms: config.WORKER_FLUSH_MS,
      idle: config.WORKER_FLUSH_IDLE,
    },
    traces: tracing.enabled,
  });
} catch (err) {
  logger.error("cannot start", errorFields(err));
  // A KafkaSetupError exits 1 like the other start-up failures (see failure.ts for why).
  const decision = decide(err);
  await exit(decision.action === "stop" ? decision.exitCode : 1, "start-up failed");
}
