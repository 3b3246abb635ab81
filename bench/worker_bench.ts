/**
 * `deno task bench:worker [--events N] [--rate R] [--seconds S] [--staging-rows M]`
 *
 * On the shared local stack:
 * 1. pre-fills a unique topic (6 partitions) with N events (default 1,000,000);
 * 2. ceilings: a plain kafkajs consume of that topic (no processing), and one PostgreSQL
 *    `COPY` of the same rows into an empty table with the same primary key;
 * 3. staging: the worker's sink with COPY into a temporary table vs multi-row INSERT;
 * 4. the worker (subprocess, default settings) drains the topic into PostgreSQL: rows/s from
 *    its own `/metrics`, peak RSS by `ps`;
 * 5. end-to-end latency at a fixed rate (default 1,000 events/s for 20 s): produce with a send
 *    timestamp, row visible = a NOTIFY from an AFTER INSERT trigger, delivered on commit.
 * Prints a Markdown table and one JSON line. Everything it creates is removed at the end.
 */
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { encodeEvent } from "../shared/event.ts";
import { createKafka } from "../shared/kafka.ts";
import { silentLogger } from "../shared/logger.ts";
import { sharedStack, uniqueName } from "../stack/harness.ts";
import { readState } from "../stack/stack.ts";
import { installFastImmediate } from "../worker/fast_immediate.ts";
import { connectNoDelay, type SocketTarget } from "../worker/no_delay_socket.ts";
import { createPostgresDialect } from "../worker/postgres_dialect.ts";
import { spawnWorker, type WorkerProcess } from "../worker/_testing.ts";
import {
  benchEvent,
  consumeCeiling,
  copyCeiling,
  cpuSeconds,
  prefill,
  quantile,
  rssKiB,
  sinkRate,
  withTimeout,
} from "./worker_bench_parts.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    events: { type: "string", default: "1000000" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "20" },
    "staging-rows": { type: "string", default: "100000" },
    partitions: { type: "string", default: "6" },
    "e2e-only": { type: "boolean", default: false },
  },
});
const N = Number(values.events);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const STAGING_ROWS = Number(values["staging-rows"]);
const PARTITIONS = Number(values.partitions);
/** The load generator sends what is due every TICK_MS, in one request (as a batching ingest would). */
const TICK_MS = 5;
const MAX_BYTES_PER_PARTITION = 1024 * 1024; // the worker's default

const say = (msg: string) => Deno.stderr.writeSync(new TextEncoder().encode(`[bench] ${msg}\n`));
// The same event-loop fix as the worker (see worker/fast_immediate.ts), for the sink measures.
const uninstallImmediate = installFastImmediate();
const env = await sharedStack();
const kafka = createKafka(
  { brokers: env.KAFKA_BROKERS.split(","), clientId: "bench" },
  silentLogger,
);
const admin = kafka.admin();
const pgOptions = {
  max: 4,
  onnotice: () => {},
  socket: (target: SocketTarget) => connectNoDelay(target),
};
const sql = postgres(env.WAREHOUSE_URL, pgOptions);
const seed = crypto.randomUUID().slice(0, 8);
const topic = uniqueName("bench_worker");
const latencyTopic = `${topic}_e2e`;
const schemas: string[] = [];
const schema = (name: string) => {
  const s = uniqueName(`bench_${name}`);
  schemas.push(s);
  return s;
};
const workers: WorkerProcess[] = [];
/** WORKER_* and WAREHOUSE_STAGING from the bench's environment reach the worker (for tuning). */
const tuning = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([k]) =>
    k.startsWith("WORKER_") || k === "WAREHOUSE_STAGING"
  ),
);
const results: Record<string, number> = {};

await admin.connect();
try {
  await admin.createTopics({
    topics: [topic, latencyTopic, `${topic}.dlq`].map((t) => ({
      topic: t,
      numPartitions: PARTITIONS,
    })),
    waitForLeaders: true,
  });

  if (!values["e2e-only"]) {
    say(`pre-filling ${N} events into ${topic}`);
    results.produce_msgs_per_s = await prefill(kafka, topic, N, seed);

    say("ceiling: plain kafkajs consume");
    const consume = await consumeCeiling(
      kafka,
      topic,
      N,
      uniqueName("bench_plain"),
      MAX_BYTES_PER_PARTITION,
    );
    results.kafkajs_consume_msgs_per_s = consume.rate;

    say("ceiling: PostgreSQL COPY of the same rows");
    const copy = await copyCeiling(sql, schema("copy"), N, seed);
    results.copy_rows_per_s = copy.rate;

    say(`staging: ${STAGING_ROWS} rows through the sink, COPY vs INSERT`);
    results.sink_copy_staging_rows_per_s = await sinkRate(
      sql,
      schema("stage_copy"),
      "copy",
      STAGING_ROWS,
      5_000,
      seed,
    );
    results.sink_insert_staging_rows_per_s = await sinkRate(
      sql,
      schema("stage_insert"),
      "insert",
      STAGING_ROWS,
      5_000,
      seed,
    );

    say("worker: draining the topic");
    const workerSchema = schema("worker");
    const worker = spawnWorker({
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      KAFKA_GROUP_ID: uniqueName("bench_worker_group"),
      WAREHOUSE_URL: env.WAREHOUSE_URL,
      WAREHOUSE_SCHEMA: workerSchema,
      LOG_LEVEL: "info",
      ...tuning,
    });
    workers.push(worker);
    const spawned = performance.now();
    const state = await readState("local");
    const kafkaPids = (state?.kafka ?? []).flatMap((k) => k.pid ? [k.pid] : []);
    const pgPids = state?.postgres.pid ? [state.postgres.pid] : [];
    const cpuBefore = {
      kafka: await cpuSeconds(kafkaPids),
      pg: await cpuSeconds(pgPids, true),
    };
    let peakRss = 0;
    let at5 = 0;
    let at95 = 0;
    let rows = 0;
    let port: number | undefined;
    const deadline = Date.now() + 900_000;
    while (rows < N) {
      if (Date.now() > deadline) throw new Error(`worker stuck at ${rows} rows`);
      await new Promise((r) => setTimeout(r, 200));
      peakRss = Math.max(peakRss, await rssKiB(worker.child.pid));
      port ??= worker.port();
      if (!port) continue;
      rows = await rowsUpserted(port);
      if (!at5 && rows >= N * 0.05) at5 = performance.now();
      if (!at95 && rows >= N * 0.95) at95 = performance.now();
    }
    const total = (performance.now() - spawned) / 1000;
    results.worker_cpu_cores = (await cpuSeconds([worker.child.pid])) / total;
    results.kafka_cpu_cores = ((await cpuSeconds(kafkaPids)) - cpuBefore.kafka) / total;
    // Backends that ended during the run are not counted: a lower bound.
    results.postgres_cpu_cores = ((await cpuSeconds(pgPids, true)) - cpuBefore.pg) / total;
    results.worker_rows_per_s_total = N / total;
    results.worker_rows_per_s_sustained = (N * 0.9) / ((at95 - at5) / 1000);
    results.worker_peak_rss_mib = peakRss / 1024;
    const [check] = await sql.unsafe(`select count(*)::int as n from ${workerSchema}.users`);
    results.worker_table_rows = Number(check!.n);
    await worker.stop("SIGTERM");
    workers.length = 0;
  }

  say(`end-to-end latency at ${RATE} events/s for ${SECONDS} s`);
  const e2e = await latency(schema("e2e"));
  Object.assign(results, e2e);

  const slower = Math.min(results.kafkajs_consume_msgs_per_s!, results.copy_rows_per_s!);
  results.worker_fraction_of_slower_ceiling = results.worker_rows_per_s_sustained! / slower;
  printReport(results);
} finally {
  for (const w of workers) await w.stop("SIGKILL");
  await admin.deleteTopics({ topics: [topic, latencyTopic, `${topic}.dlq`] }).catch(() => {});
  await admin.disconnect();
  for (const s of schemas) await sql.unsafe(`drop schema if exists ${s} cascade`).catch(() => {});
  await sql.end();
  uninstallImmediate();
}

async function rowsUpserted(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^worker_rows_upserted_total (\d+)/m.exec(text)?.[1] ?? 0);
}

async function latency(s: string): Promise<Record<string, number>> {
  for (const ddl of createPostgresDialect({ schema: s, table: "users" }).createTable()) {
    await sql.unsafe(ddl);
  }
  await sql.unsafe(`CREATE FUNCTION ${s}.notify_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('${s}', NEW.id); RETURN NULL; END $$`);
  await sql.unsafe(`CREATE TRIGGER notify_row AFTER INSERT ON ${s}.users
    FOR EACH ROW EXECUTE FUNCTION ${s}.notify_row()`);
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const acks: number[] = [];
  const listener = await sql.listen(s, (id) => {
    const t = sent.get(id);
    if (t !== undefined) latencies.push(performance.now() - t);
  });
  const worker = spawnWorker({
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    KAFKA_TOPIC: latencyTopic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_GROUP_ID: uniqueName("bench_e2e_group"),
    WAREHOUSE_URL: env.WAREHOUSE_URL,
    WAREHOUSE_SCHEMA: s,
    LOG_LEVEL: "info",
    ...tuning,
  });
  workers.push(worker);
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await worker.waitForLog((l) => l.msg === "joined group", 60_000, "worker to join");
    const total = RATE * SECONDS;
    const warmup = RATE * 2; // the first two seconds are not counted
    const started = performance.now();
    let i = 0;
    const inFlight = new Set<Promise<unknown>>();
    while (i < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
      if (due > i) {
        const messages = [];
        for (; i < due; i++) {
          const e = benchEvent(N + i, seed);
          e.accepted_at = new Date().toISOString();
          messages.push({ key: e.user.id, value: Buffer.from(encodeEvent(e)) });
          if (i >= warmup) sent.set(e.user.id, performance.now());
        }
        const t = performance.now();
        const p = producer.send({ topic: latencyTopic, acks: -1, messages }).then(() =>
          acks.push(performance.now() - t)
        ).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    await Promise.all(inFlight);
    await withTimeout(
      (async () => {
        while (latencies.length < sent.size) await new Promise((r) => setTimeout(r, 50));
      })(),
      60_000,
      "every latency event",
    );
    const sorted = latencies.toSorted((a, b) => a - b);
    const ackSorted = acks.toSorted((a, b) => a - b);
    return {
      e2e_produce_ack_p50_ms: quantile(ackSorted, 0.5),
      e2e_produce_ack_p99_ms: quantile(ackSorted, 0.99),
      e2e_events: sorted.length,
      e2e_p50_ms: quantile(sorted, 0.5),
      e2e_p99_ms: quantile(sorted, 0.99),
      e2e_max_ms: sorted.at(-1) ?? NaN,
    };
  } finally {
    await producer.disconnect();
    await listener.unlisten();
    await worker.stop("SIGTERM");
    workers.splice(workers.indexOf(worker), 1);
  }
}

function printReport(r: Record<string, number>): void {
  const f = (n: number | undefined, d = 0) =>
    (n ?? NaN).toLocaleString("en-US", { maximumFractionDigits: d });
  const lines = [
    `| measure (${f(N)} events, ${PARTITIONS} partitions) | value |`,
    "| --- | --- |",
    `| pre-fill (kafkajs producer, acks=all) | ${f(r.produce_msgs_per_s)} msg/s |`,
    `| ceiling: plain kafkajs consume | ${f(r.kafkajs_consume_msgs_per_s)} msg/s |`,
    `| ceiling: PostgreSQL COPY (one stream) | ${f(r.copy_rows_per_s)} rows/s |`,
    `| sink, COPY → temp table → MERGE | ${f(r.sink_copy_staging_rows_per_s)} rows/s |`,
    `| sink, multi-row INSERT → temp table → MERGE | ${
      f(r.sink_insert_staging_rows_per_s)
    } rows/s |`,
    `| worker, sustained (5%→95%) | ${f(r.worker_rows_per_s_sustained)} rows/s |`,
    `| worker, total incl. start-up | ${f(r.worker_rows_per_s_total)} rows/s |`,
    `| worker / slower ceiling | ${f((r.worker_fraction_of_slower_ceiling ?? NaN) * 100, 1)} % |`,
    `| CPU cores during the drain: worker / PostgreSQL / Kafka | ${f(r.worker_cpu_cores, 2)} / ${
      f(r.postgres_cpu_cores, 2)
    } / ${f(r.kafka_cpu_cores, 2)} |`,
    `| worker peak RSS | ${f(r.worker_peak_rss_mib, 1)} MiB |`,
    `| e2e latency at ${f(RATE)} ev/s, p50 / p99 / max | ${f(r.e2e_p50_ms, 1)} / ${
      f(r.e2e_p99_ms, 1)
    } / ${f(r.e2e_max_ms, 1)} ms |`,
    `| of which producer send→ack, p50 / p99 | ${f(r.e2e_produce_ack_p50_ms, 1)} / ${
      f(r.e2e_produce_ack_p99_ms, 1)
    } ms |`,
  ];
  const out = `${lines.join("\n")}\n${JSON.stringify(r)}\n`;
  Deno.stdout.writeSync(new TextEncoder().encode(out));
}
