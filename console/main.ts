/**
 * The console: `deno task console`. What users watch: rates per stage, consumer lag in records
 * and seconds, instances and their readiness (one poller for every open page, server-sent
 * events), dead letters by reason with re-drive, finding an event and its path, the ingests'
 * pull runs, on http://127.0.0.1:8070 by default.
 *
 * It reads Kafka, the programs' `/metrics` and `/readyz`, and (read-only) the warehouse; it
 * never sits on the write path. Logs JSON lines to standard error; the first line to look for
 * is `{"msg":"listening","port":N}`. SIGTERM or SIGINT stops it (exit 0); a second SIGINT
 * exits at once (130).
 *
 * Exit codes: 0 after a clean stop, 1 after a fatal error, 2 for bad configuration or
 * permissions.
 */
import { ConfigError } from "../shared/config.ts";
import { type KafkaConnection, kafkaConnection } from "../shared/kafka/settings.ts";
import { createLogger, errorFields } from "../shared/logger.ts";
import { listenFailure } from "../shared/listen_failure.ts";
import { assertNarrowPermissions } from "../shared/permissions.ts";
import { onStopSignals } from "../shared/stop_signals.ts";
import { runRedrive } from "../shared/redrive/run_redrive.ts";
import { type ConsoleConfig, loadConsoleConfig } from "./config.ts";
import { groupDeadLetters } from "./deadletters/group_dead_letters.ts";
import { createRedriveDesk } from "./deadletters/redrive_desk.ts";
import { scanDeadLetters } from "./deadletters/scan_dead_letters.ts";
import { findEvent } from "./find/find_event.ts";
import { createConsoleApp } from "./http/app.ts";
import { cachedScan, deadLetterRoutes } from "./http/dead_letter_routes.ts";
import { findRoutes } from "./http/find_routes.ts";
import { pullRunRoutes } from "./http/pull_run_routes.ts";
import { createSessions } from "./http/sessions.ts";
import { loadStaticFiles } from "./http/static_files.ts";
import { createPoller } from "./live/poller.ts";
import { createSampler } from "./live/sampler.ts";
import { createInstanceProbe } from "./sources/instance_probe.ts";
import { createKafkaReader } from "./sources/kafka_reader.ts";
import { readPullRuns } from "./sources/pull_runs.ts";
import { createWarehouseReader } from "./sources/warehouse_reader.ts";

try {
  await assertNarrowPermissions();
} catch (err) {
  createLogger().error("bad permissions", { ...errorFields(err), service: "console" });
  Deno.exit(2);
}

let config: Readonly<ConsoleConfig>;
let connection: KafkaConnection;
try {
  config = loadConsoleConfig((key) => Deno.env.get(key));
  connection = await kafkaConnection(config, config.KAFKA_CLIENT_ID);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  createLogger().error(err.message, { service: "console", problems: err.problems });
  Deno.exit(2);
}

const log = createLogger({ level: config.LOG_LEVEL }).child({ service: "console" });
// Two Kafka sources: the poller's reads never wait behind a long search or dead-letter scan.
const liveKafka = createKafkaReader(connection);
const kafka = createKafkaReader(connection);
const instances = [
  ...config.CONSOLE_INGEST_URLS.map((url) => ({ kind: "ingest" as const, url })),
  ...config.CONSOLE_WORKER_URLS.map((url) => ({ kind: "worker" as const, url })),
];
const sampler = createSampler({
  probe: createInstanceProbe({ timeoutMs: config.CONSOLE_SCRAPE_TIMEOUT_MS }),
  kafka: liveKafka,
  instances,
  topic: config.KAFKA_TOPIC,
  groupId: config.KAFKA_GROUP_ID,
  now: Date.now,
});
const poller = createPoller({
  sample: () => sampler.sample(),
  intervalMs: config.CONSOLE_POLL_MS,
  historySize: Math.ceil((config.CONSOLE_HISTORY_SECONDS * 1000) / config.CONSOLE_POLL_MS),
  logger: log,
});

const deadLetters = cachedScan(() =>
  scanDeadLetters(kafka, config.KAFKA_DLQ_TOPIC, {
    limit: config.CONSOLE_DLQ_SCAN_RECORDS,
    maxMs: 5_000,
  })
);
const desk = createRedriveDesk({
  // The same re-drive as `deno task redrive`, with the console's connection.
  run: ({ groupId, filter, dryRun }) =>
    runRedrive(connection, {
      dlqTopic: config.KAFKA_DLQ_TOPIC,
      topic: config.KAFKA_TOPIC,
      groupId,
      filter,
      dryRun,
      timeoutMs: 120_000,
    }, log.child({ component: "redrive" })),
  workerGroupId: config.KAFKA_GROUP_ID,
  findGroup: async (id) =>
    groupDeadLetters((await deadLetters.get()).letters).find((g) => g.id === id),
});

const warehouse = config.CONSOLE_WAREHOUSE_URL === undefined
  ? undefined
  : createWarehouseReader(config.CONSOLE_WAREHOUSE_URL, {
    schema: config.WAREHOUSE_SCHEMA,
    table: config.WAREHOUSE_TABLE,
  });
const mib = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;
const find = findRoutes(
  async (query, opts) => {
    const started = performance.now();
    const result = await findEvent(query, {
      kafka,
      ...(warehouse ? { warehouse } : {}),
      topic: config.KAFKA_TOPIC,
      dlqTopic: config.KAFKA_DLQ_TOPIC,
      groupId: config.KAFKA_GROUP_ID,
      maxRecords: config.CONSOLE_FIND_MAX_RECORDS,
      maxMs: config.CONSOLE_FIND_MAX_MS,
      now: Date.now,
    }, opts);
    // What a search read and the memory after it (LOG_LEVEL=debug): the heap's size and use
    // say whether searches leave anything behind (`deno task bench:console` reads these).
    const memory = Deno.memoryUsage();
    log.debug("search", {
      by: query.by,
      records: result.topicScan.records,
      stoppedBy: result.topicScan.stoppedBy,
      found: result.found.length,
      ms: Math.round(performance.now() - started),
      rssMiB: mib(memory.rss),
      heapTotalMiB: mib(memory.heapTotal),
      heapUsedMiB: mib(memory.heapUsed),
      externalMiB: mib(memory.external),
    });
    return result;
  },
  config.KAFKA_TOPIC,
  config.CONSOLE_TRACE_URL,
);

const shutdown = new AbortController();
const handler = createConsoleApp({
  shutdown: shutdown.signal,
  poller,
  staticFiles: await loadStaticFiles(),
  sessions: createSessions(),
  ...(config.CONSOLE_TOKEN === undefined ? {} : { token: config.CONSOLE_TOKEN }),
  host: config.CONSOLE_HOST,
  logger: log,
  routes: {
    ...deadLetterRoutes({
      scan: deadLetters,
      read: async (partition, offset) =>
        (await kafka.read(config.KAFKA_DLQ_TOPIC, partition, offset, { maxRecords: 1 }))[0],
      desk,
    }),
    ...find,
    ...pullRunRoutes(() =>
      readPullRuns(config.CONSOLE_INGEST_URLS, { timeoutMs: config.CONSOLE_SCRAPE_TIMEOUT_MS * 2 })
    ),
  },
});

// Before the server listens, so that a signal sent after the "listening" line finds its listener
// (not Deno's default, which ends the process at once). A second Ctrl-C exits at once (see
// shared/stop_signals.ts).
onStopSignals((signal) => void stop(signal), { logger: log });
function serve(): Deno.HttpServer {
  const address = { hostname: config.CONSOLE_HOST, port: config.CONSOLE_PORT };
  try {
    return Deno.serve({
      ...address,
      onListen: ({ hostname, port }) =>
        log.info("listening", {
          port,
          url: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/`,
          auth: config.CONSOLE_TOKEN === undefined ? "none (loopback, read-only)" : "bearer token",
          instances: instances.length,
        }),
    }, handler);
  } catch (err) {
    // A taken port is one line naming CONSOLE_PORT, not an uncaught stack trace.
    const message = listenFailure(err, { host: "CONSOLE_HOST", port: "CONSOLE_PORT" }, address);
    if (message === undefined) throw err;
    log.error(message);
    Deno.exit(1);
  }
}
const server = serve();
poller.start();

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("stopping", { reason: signal });
  const deadline = setTimeout(() => Deno.exit(1), 10_000);
  await poller.stop();
  shutdown.abort();
  await server.shutdown().catch(() => {});
  await Promise.all([liveKafka.close(), kafka.close()]);
  await warehouse?.close().catch(() => {});
  clearTimeout(deadline);
  log.info("stopped", { exitCode: 0 });
  Deno.exit(0);
}
