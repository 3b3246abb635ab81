/**
 * The ingest service: `deno task ingest`.
 *
 * Reads its configuration from the environment, connects the Kafka producer, serves HTTP,
 * registers the pull job on `Deno.cron`, and on SIGTERM/SIGINT stops accepting (every answer
 * from then on closes its keep-alive connection, new requests get 503), lets requests in flight
 * finish, closes the server once each connection had its last answer, flushes the batcher,
 * disconnects and exits 0 (1 when it had to give up after `INGEST_SHUTDOWN_TIMEOUT_MS`; 130 at
 * once on a second SIGINT). Logs
 * JSON lines to standard error and prints nothing else; the first line to look for is
 * `{"msg":"listening","port":N}`.
 *
 * With `INGEST_REUSE_PORT=true` several ingest processes listen on one port (SO_REUSEPORT,
 * Linux) and the kernel spreads new connections among them: one core each. They share
 * nothing: each has its own batcher, metrics and replay guard (a replayed `webhook-id` that
 * reaches another process is accepted there; the warehouse's idempotent upsert absorbs it).
 */
import { ConfigError } from "../shared/config.ts";
import { type KafkaConnection, kafkaConnection } from "../shared/kafka/settings.ts";
import { createLogger, errorFields } from "../shared/logger.ts";
import { listenFailure } from "../shared/listen_failure.ts";
import { createRegistry } from "../shared/metrics.ts";
import { createTracing } from "../shared/otel_tracing.ts";
import { assertNarrowPermissions } from "../shared/permissions.ts";
import { onStopSignals } from "../shared/stop_signals.ts";
import { createIngestApp } from "./http/app.ts";
import { shuttingDownResponse } from "./http/shutting_down_response.ts";
import { type IngestConfig, loadIngestConfig } from "./config.ts";
import { createConnectionDrain } from "../fixes/connection_drain.ts";
import { serveGuarded } from "../fixes/guarded_server.ts";
import { createTopicProducer } from "./produce/topic_producer.ts";
import { createLeaderLanes } from "./produce/leader_lanes.ts";
import { createThreadProducer } from "./produce/thread_producer.ts";

try {
  await assertNarrowPermissions();
} catch (err) {
  createLogger().error("bad permissions", { ...errorFields(err), service: "ingest" });
  Deno.exit(2);
}

let config: Readonly<IngestConfig>;
try {
  config = loadIngestConfig((key) => Deno.env.get(key));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  createLogger().error(err.message, { service: "ingest", problems: err.problems });
  Deno.exit(2);
}

const log = createLogger({ level: config.LOG_LEVEL }).child({ service: "ingest" });
let connection: KafkaConnection;
try {
  connection = await kafkaConnection(config, config.KAFKA_CLIENT_ID);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  createLogger().error(err.message, { service: "ingest", problems: err.problems });
  Deno.exit(2);
}
const startTimeoutMs = config.KAFKA_START_TIMEOUT_MS;
// A request to a broker waits no longer than its caller does: one that hangs (a silent broker)
// then fails in time for the client's next try to go to another broker (metadata, producer id).
const requestTimeoutMs = config.INGEST_ACK_TIMEOUT_MS;
// With INGEST_PRODUCER_WORKER the producer runs on its own thread (see produce/thread_producer.ts).
const producer = config.INGEST_PRODUCER_WORKER
  ? createThreadProducer({
    connection,
    topic: config.KAFKA_TOPIC,
    logLevel: config.LOG_LEVEL,
    startTimeoutMs,
    requestTimeoutMs,
  })
  : createTopicProducer(connection, {
    topic: config.KAFKA_TOPIC,
    logger: log,
    startTimeoutMs,
    requestTimeoutMs,
  });
// One send lane per partition leader: a broker that hangs holds up only its own partitions.
const lanes = createLeaderLanes(() => producer.leaders(), {
  logger: log.child({ component: "lanes" }),
});
// Spans only with OTEL_DENO=true: then Deno exports them, and each request's `Deno.serve` span
// is the context its records carry.
const tracing = createTracing("user-pipeline-ingest");
const app = createIngestApp(config, {
  producer,
  lanes,
  tracing,
  ready: producer.ready,
  problem: producer.problem,
  logger: log,
  registry: createRegistry(),
  // Deno.serve enforces Content-Length: such bodies are read in one piece.
  framedBodies: true,
});

const cronAbort = new AbortController();
if (config.PULL_ENABLED) {
  try {
    Deno.cron(
      "randomuser-pull",
      config.PULL_SCHEDULE,
      { signal: cronAbort.signal },
      async () => void await app.pull("schedule"),
    );
  } catch (err) {
    log.error(`Cannot parse PULL_SCHEDULE: ${(err as Error).message}`);
    Deno.exit(2);
  }
}

// Only now, with the configuration fully checked, reach out to Kafka.
try {
  await producer.connect();
} catch (err) {
  // The message names the setting to fix (password, CA, TLS, a missing topic, brokers that
  // accept connections but do not answer within KAFKA_START_TIMEOUT_MS).
  log.error(`Cannot use Kafka: ${(err as Error).message}`, { kafka: connection.summary });
  Deno.exit(1);
}
lanes.start();

// Keep-alive connections take their last answer before the server closes them (see
// connection_drain.ts); a third of the shutdown budget, the rest is for the flush.
const connections = createConnectionDrain(app.handler, {
  maxWaitMs: Math.floor(config.INGEST_SHUTDOWN_TIMEOUT_MS / 3),
  refuse: shuttingDownResponse,
});
// Before the server listens, so that a signal sent after the "listening" line finds its listener
// (not Deno's default, which ends the process at once). A second Ctrl-C exits at once (see
// shared/stop_signals.ts).
onStopSignals((signal) => void shutdown(signal), { logger: log });
// Connections are counted and timed out (see fixes/guarded_server.ts): idle and half-sent
// ones cannot pile up until the file table is full.
function serve(): ReturnType<typeof serveGuarded> {
  const address = { hostname: config.INGEST_HOST, port: config.INGEST_PORT };
  try {
    return serveGuarded({
      ...address,
      // N processes on one port, one core each (Linux); each has its own replay guard.
      reusePort: config.INGEST_REUSE_PORT,
      maxConnections: config.INGEST_MAX_CONNECTIONS,
      headerTimeoutMs: config.INGEST_HEADER_TIMEOUT_MS,
      idleTimeoutMs: config.INGEST_IDLE_TIMEOUT_MS,
      logger: log,
      onListen: ({ hostname, port }) =>
        log.info("listening", {
          port,
          hostname,
          topic: config.KAFKA_TOPIC,
          pull: config.PULL_ENABLED ? config.PULL_SCHEDULE : "off",
          signed: config.WEBHOOK_SECRET.length > 0,
          reusePort: config.INGEST_REUSE_PORT,
          allowUnsigned: config.INGEST_ALLOW_UNSIGNED,
          maxConnections: config.INGEST_MAX_CONNECTIONS,
          traces: tracing.enabled,
        }),
      onError: (err) => {
        log.error("request failed", errorFields(err));
        return new Response(null, { status: 500 });
      },
    }, connections.handler);
  } catch (err) {
    // A taken port is one line naming INGEST_PORT, not an uncaught stack trace.
    const message = listenFailure(err, { host: "INGEST_HOST", port: "INGEST_PORT" }, address);
    if (message === undefined) throw err;
    log.error(message);
    // Nothing was accepted yet: nothing to flush.
    Deno.exit(1);
  }
}
const server = serve();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("shutting down", { signal });
  const deadline = setTimeout(() => {
    log.error("shutdown timed out: exiting with messages possibly unacknowledged", {
      timeoutMs: config.INGEST_SHUTDOWN_TIMEOUT_MS,
      buffer: app.stats(),
    });
    Deno.exit(1);
  }, config.INGEST_SHUTDOWN_TIMEOUT_MS);
  try {
    cronAbort.abort();
    // Stop accepting; requests in flight finish (they wait for their acknowledgements). The
    // server closes only drained connections: on its own it would also close one whose next
    // request was sent but not read yet, leaving that request without an answer.
    const drainAndClose = async () => {
      const started = performance.now();
      await connections.drain();
      // `owed` above 0: some connection gave no last request within the wait.
      log.info("connections drained", {
        ...connections.stats(),
        ms: Math.round(performance.now() - started),
      });
      await server.shutdown();
    };
    await Promise.all([drainAndClose(), app.stopPull()]);
    await app.close();
    lanes.close();
    await producer.disconnect();
  } catch (err) {
    log.error("shutdown failed", errorFields(err));
    Deno.exit(1);
  }
  clearTimeout(deadline);
  log.info("stopped");
  Deno.exit(0);
}
