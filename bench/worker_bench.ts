/**
 * `deno task bench:worker [--events N] [--rate R] [--seconds S] [--staging-rows M]
 *   [--partitions P] [--e2e-only] [--skip-ceilings] [--baseline REV] [--versions]`
 *
 * On the shared local stack:
 * 1. pre-fills a unique topic (6 partitions) with N events (default 1,000,000);
 * 2. ceilings: a plain consume of that topic through our consumer group (no processing), and
 *    one PostgreSQL `COPY` of the same rows into an empty table with the same primary key;
 * 3. staging: the worker's sink with COPY into a temporary table vs multi-row INSERT;
 * 4. the `worker` task (subprocess, default settings) drains the topic into PostgreSQL: rows/s
 *    from its own `/metrics`, peak RSS by `ps`, CPU time of worker, PostgreSQL and Kafka;
 * 5. end-to-end latency at a fixed rate (default 1,000 events/s for 20 s) on a fresh topic:
 *    produce with a send timestamp, row visible = a NOTIFY from an AFTER INSERT trigger,
 *    delivered on commit.
 * With `--baseline REV`, steps 4 and 5 also run the `worker` task of REV (checked out with
 * `git worktree` in a temporary folder) with the same environment, topic and load, each with
 * its own group and schema; the table prints both and the ratios. `WORKER_*`,
 * `WAREHOUSE_STAGING` and `OTEL_*` from the bench's environment reach every worker (tuning;
 * `OTEL_DENO=true` … measures the worker with traces on);
 * `BENCH_V8_FLAGS` replaces their `--v8-flags` ("" for none).
 * With `--versions`, only this: a second topic is pre-filled with the same N events in event
 * version 2 (every user with `nat` and `cell`), and the worker drains the version-1 topic and
 * the version-2 topic in the order 1, 2, 2, 1 (each with a new group and schema), to print each
 * version's sustained rows/s and their ratio: the version check and the per-version column
 * sets must not cost the hot path.
 * Prints a Markdown table and one JSON line. Everything it creates is removed at the end.
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { encodeEvent } from "../shared/event.ts";
import { createKafkaProducer, type ProducerMessage } from "../shared/kafka/producer.ts";
import { silentLogger } from "../shared/logger.ts";
import { sharedStack, uniqueName } from "../stack/harness.ts";
import { readState } from "../stack/stack.ts";
import { testKafka } from "../testing/kafka.ts";
import { complaints, type LogLine, type RunningProgram, startProgram } from "../testing/program.ts";
import { seededEvent } from "../testing/users.ts";
import { installFastImmediate } from "../fixes/fast_immediate.ts";
import { connectNoDelay, type SocketTarget } from "../fixes/no_delay_socket.ts";
import { createPostgresDialect } from "../worker/warehouse/postgres_dialect.ts";
import { checkoutRevision, headCommit, type RevisionTree } from "./revision_tree.ts";
import {
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
    "skip-ceilings": { type: "boolean", default: false },
    baseline: { type: "string" },
    versions: { type: "boolean", default: false },
  },
});
const N = Number(values.events);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const STAGING_ROWS = Number(values["staging-rows"]);
const PARTITIONS = Number(values.partitions);
for (const [name, n] of Object.entries({ N, RATE, SECONDS, STAGING_ROWS, PARTITIONS })) {
  if (!Number.isInteger(n) || n < 1 || n > 100_000_000) throw new Error(`Cannot parse ${name}`);
}
/** The load generator sends what is due every TICK_MS, in one request (as a batching ingest would). */
const TICK_MS = 5;
const MAX_BYTES = 4 * 1024 * 1024; // the worker's default fetch size
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

const say = (msg: string) => Deno.stderr.writeSync(new TextEncoder().encode(`[bench] ${msg}\n`));
// The same event-loop fix as the worker (see fixes/fast_immediate.ts), for the sink measures.
const uninstallImmediate = installFastImmediate();
const env = await sharedStack();
const kafka = await testKafka(env.KAFKA_BROKERS);
const pgOptions = {
  max: 4,
  onnotice: () => {},
  socket: (target: SocketTarget) => connectNoDelay(target),
};
const sql = postgres(env.WAREHOUSE_URL, pgOptions);
const seed = crypto.randomUUID().slice(0, 8);
const topic = uniqueName("bench_worker");
const dlq = `${topic}.dlq`;
const topicV2 = `${topic}_v2`;
const topics = [topic, dlq, ...(values.versions ? [topicV2] : [])];
const schemas: string[] = [];
const schema = (name: string) => {
  const s = uniqueName(`bench_${name}`);
  schemas.push(s);
  return s;
};
const running = new Set<RunningProgram>();
/** WORKER_*, WAREHOUSE_STAGING and OTEL_* from the bench's environment reach the workers. */
const tuning = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([k]) =>
    k.startsWith("WORKER_") || k === "WAREHOUSE_STAGING" || k.startsWith("OTEL_")
  ),
);
const v8Flags = Deno.env.get("BENCH_V8_FLAGS");

/** A worker program measured: this checkout's, and REV's with --baseline. */
interface Program {
  key: "new" | "old";
  label: string;
  root: string;
}
/** Single measures, and per program ones. */
const shared: Record<string, number> = {};
const measured: Record<"new" | "old", Record<string, number>> = { new: {}, old: {} };
const head = await headCommit(ROOT);
const programs: Program[] = [{ key: "new", label: `new (${head}+working tree)`, root: ROOT }];
let tree: RevisionTree | undefined;

try {
  await kafka.createTopics(topics, PARTITIONS);
  if (values.baseline) {
    tree = await checkoutRevision(ROOT, values.baseline);
    say(`baseline ${tree.commit} "${tree.subject}" checked out in ${tree.dir}`);
    programs.push({ key: "old", label: `old (${tree.commit})`, root: tree.dir });
  }

  if (values.versions) await versions();
  else await everything();
} finally {
  for (const w of running) await w.stop("SIGKILL");
  await kafka.admin.deleteTopics(topics).catch(() => {});
  await kafka.close();
  for (const s of schemas) await sql.unsafe(`drop schema if exists ${s} cascade`).catch(() => {});
  await sql.end();
  await tree?.remove();
  uninstallImmediate();
}

/** Runs one phase for `program`; a program that fails is reported, and the others still run. */
async function attempt(
  program: Program,
  phase: string,
  run: (p: Program) => Promise<Record<string, number>>,
): Promise<Record<string, number>> {
  try {
    return await run(program);
  } catch (err) {
    say(`${program.label}: ${phase} failed: ${(err as Error).message}`);
    return {};
  }
}

async function startWorker(
  program: Program,
  workerEnv: Record<string, string>,
): Promise<RunningProgram> {
  const worker = await startProgram("worker", {
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    KAFKA_DLQ_TOPIC: dlq,
    WAREHOUSE_URL: env.WAREHOUSE_URL,
    WORKER_PORT: "0",
    WORKER_HOSTNAME: "127.0.0.1",
    LOG_LEVEL: "info",
    ...workerEnv,
    ...tuning,
  }, { root: program.root, v8Flags });
  running.add(worker);
  return worker;
}

async function stopWorker(worker: RunningProgram): Promise<number> {
  running.delete(worker);
  await worker.stop("SIGTERM");
  return complaintsOf(worker.logs);
}

/**
 * `--versions`: the same events in version 1 and in version 2, drained by this checkout's
 * worker in the order 1, 2, 2, 1; prints the sustained rows/s of each and the ratio.
 */
async function versions(): Promise<void> {
  say(`pre-filling ${N} events into ${topic} (version 1) and ${topicV2} (version 2)`);
  await prefill(kafka.connection, topic, N, seed, 1);
  await prefill(kafka.connection, topicV2, N, seed, 2);
  const program = programs[0]!;
  const rates: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const cpu: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const pg: Record<1 | 2, number[]> = { 1: [], 2: [] };
  for (const version of [1, 2, 2, 1] as const) {
    say(`draining version ${version}`);
    const r = await drain(program, version === 1 ? topic : topicV2);
    if (r.drain_warn_error_lines) throw new Error(`version ${version}: warnings in the log`);
    if (r.worker_table_rows !== N) {
      throw new Error(`version ${version}: ${r.worker_table_rows} rows`);
    }
    rates[version].push(r.worker_rows_per_s_sustained!);
    cpu[version].push(r.worker_cpu_us_per_row!);
    pg[version].push(r.postgres_cpu_cores!);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const [v1, v2] = [mean(rates[1]), mean(rates[2])];
  const f = (x: number) => Math.round(x).toLocaleString("en");
  const out = [
    "| events | version 1 rows/s (runs) | version 2 rows/s (runs) | v2 / v1 | worker CPU per row v1 / v2 | PostgreSQL cores v1 / v2 |",
    "|---|---|---|---|---|---|",
    `| ${f(N)} | ${f(v1)} (${rates[1].map(f).join(", ")}) | ${f(v2)} (${
      rates[2].map(f).join(", ")
    }) | ${(v2 / v1).toFixed(3)} | ${mean(cpu[1]).toFixed(1)} / ${mean(cpu[2]).toFixed(1)} µs | ${
      mean(pg[1]).toFixed(2)
    } / ${mean(pg[2]).toFixed(2)} |`,
    JSON.stringify({
      versions: { events: N, v1: rates[1], v2: rates[2], ratio: v2 / v1, cpu, pg },
    }),
  ];
  Deno.stdout.writeSync(new TextEncoder().encode(`${out.join("\n")}\n`));
}

/** The worker of `program` drains the pre-filled topic with a new group into a new schema. */
async function drain(program: Program, source = topic): Promise<Record<string, number>> {
  const workerSchema = schema(`drain_${program.key}`);
  const spawned = performance.now();
  const worker = await startWorker(program, {
    KAFKA_TOPIC: source,
    KAFKA_GROUP_ID: uniqueName(`bench_drain_${program.key}`),
    WAREHOUSE_SCHEMA: workerSchema,
  });
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
  const deadline = Date.now() + 900_000;
  try {
    while (rows < N) {
      if (Date.now() > deadline) throw new Error(`${program.label} stuck at ${rows} rows`);
      await new Promise((r) => setTimeout(r, 200));
      peakRss = Math.max(peakRss, await rssKiB(worker.pid));
      rows = await rowsUpserted(worker.port);
      if (!at5 && rows >= N * 0.05) at5 = performance.now();
      if (!at95 && rows >= N * 0.95) at95 = performance.now();
    }
    const total = (performance.now() - spawned) / 1000;
    const [check] = await sql.unsafe(`select count(*)::int as n from ${workerSchema}.users`);
    const sustained = (N * 0.9) / ((at95 - at5) / 1000);
    const workerCores = (await cpuSeconds([worker.pid])) / total;
    return {
      worker_cpu_cores: workerCores,
      kafka_cpu_cores: ((await cpuSeconds(kafkaPids)) - cpuBefore.kafka) / total,
      // Backends that ended during the run are not counted: a lower bound.
      postgres_cpu_cores: ((await cpuSeconds(pgPids, true)) - cpuBefore.pg) / total,
      worker_cpu_us_per_row: (workerCores * total * 1e6) / N,
      worker_rows_per_s_total: N / total,
      worker_rows_per_s_sustained: sustained,
      worker_peak_rss_mib: peakRss / 1024,
      worker_table_rows: Number(check!.n),
      drain_warn_error_lines: await stopWorker(worker),
    };
  } finally {
    if (running.has(worker)) await stopWorker(worker);
  }
}

async function rowsUpserted(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^worker_rows_upserted_total (\d+)/m.exec(text)?.[1] ?? 0);
}

/** End-to-end latency of `program`'s worker on a fresh topic at RATE events/s. */
async function latency(program: Program): Promise<Record<string, number>> {
  const s = schema(`e2e_${program.key}`);
  const latencyTopic = `${topic}_e2e_${program.key}`;
  topics.push(latencyTopic);
  await kafka.createTopics([latencyTopic], PARTITIONS);
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
  const worker = await startWorker(program, {
    KAFKA_TOPIC: latencyTopic,
    KAFKA_GROUP_ID: uniqueName(`bench_e2e_${program.key}`),
    WAREHOUSE_SCHEMA: s,
  });
  const producer = createKafkaProducer(kafka.connection, {
    logger: silentLogger,
    clientIdSuffix: "-e2e",
  });
  try {
    await producer.connect([latencyTopic]);
    await worker.waitForLog((l) => l.msg === "joined group", 60_000, '"joined group"');
    const total = RATE * SECONDS;
    const warmup = RATE * 2; // the first two seconds are not counted
    const started = performance.now();
    let i = 0;
    const inFlight = new Set<Promise<unknown>>();
    while (i < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
      if (due > i) {
        const messages: ProducerMessage[] = [];
        for (; i < due; i++) {
          const e = seededEvent(N + i, seed);
          e.accepted_at = new Date().toISOString();
          messages.push({ key: e.user.id, value: encodeEvent(e) });
          if (i >= warmup) sent.set(e.user.id, performance.now());
        }
        const t = performance.now();
        const p = producer.send(latencyTopic, messages).then(() => acks.push(performance.now() - t))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    await Promise.all(inFlight);
    await withTimeout(
      (async () => {
        const end = Date.now() + 60_000;
        while (latencies.length < sent.size && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      61_000,
      "every latency event",
    );
    const sorted = latencies.toSorted((a, b) => a - b);
    const ackSorted = acks.toSorted((a, b) => a - b);
    return {
      e2e_produce_ack_p50_ms: quantile(ackSorted, 0.5),
      e2e_produce_ack_p99_ms: quantile(ackSorted, 0.99),
      e2e_events: sorted.length,
      e2e_expected: sent.size,
      e2e_p50_ms: quantile(sorted, 0.5),
      e2e_p99_ms: quantile(sorted, 0.99),
      e2e_max_ms: sorted.at(-1) ?? NaN,
      e2e_warn_error_lines: await stopWorker(worker),
    };
  } finally {
    await producer.close();
    await listener.unlisten();
    if (running.has(worker)) await stopWorker(worker);
  }
}

/** Counts a worker's warn/error lines and prints the first few, to read beside its numbers. */
function complaintsOf(logs: readonly LogLine[]): number {
  const lines = complaints(logs);
  for (const l of lines.slice(0, 5)) say(`  worker logged: ${JSON.stringify(l)}`);
  return lines.length;
}

function printReport(): void {
  const f = (n: number | undefined, d = 0) =>
    n === undefined ? "–" : n.toLocaleString("en-US", { maximumFractionDigits: d });
  const [n, o] = [measured.new, measured.old];
  const withOld = tree !== undefined;
  /** A per-program row: new, old, and old ÷ new or new ÷ old as `ratio` says. */
  const row = (
    label: string,
    text: (r: Record<string, number>) => string,
    ratio?: { of: string; kind: "new/old" | "old/new" },
  ) => {
    const cells = [label, text(n)];
    if (withOld) {
      cells.push(text(o));
      const a = n[ratio?.of ?? ""];
      const b = o[ratio?.of ?? ""];
      cells.push(
        ratio && a !== undefined && b !== undefined
          ? `${f(ratio.kind === "new/old" ? a / b : b / a, 2)}× (${ratio.kind})`
          : "",
      );
    }
    return `| ${cells.join(" | ")} |`;
  };
  const one = (label: string, value: string) =>
    `| ${[label, value, ...(withOld ? ["", ""] : [])].join(" | ")} |`;
  // The sink alone (COPY → temporary table → MERGE on one connection) is what the worker's
  // writes cost without Kafka or decoding: the ceiling a worker's drain is held to.
  const ceiling = Math.min(
    shared.plain_consume_msgs_per_s ?? Infinity,
    shared.sink_copy_staging_rows_per_s ?? Infinity,
  );
  for (const r of [n, o]) {
    if (r.worker_rows_per_s_sustained !== undefined && Number.isFinite(ceiling)) {
      r.worker_fraction_of_sink_ceiling = r.worker_rows_per_s_sustained / ceiling;
    }
  }
  const lines = [
    `| measure (${f(N)} events, ${PARTITIONS} partitions) | ${programs[0]!.label} |${
      withOld ? ` ${programs[1]!.label} | ratio |` : ""
    }`,
    `| --- | --- |${withOld ? " --- | --- |" : ""}`,
    one("pre-fill (our producer, acks=all)", `${f(shared.produce_msgs_per_s)} msg/s`),
    one(
      "ceiling: plain consume (our consumer group)",
      `${f(shared.plain_consume_msgs_per_s)} msg/s`,
    ),
    one("ceiling: PostgreSQL COPY (one stream)", `${f(shared.copy_rows_per_s)} rows/s`),
    one("sink, COPY → temp table → upsert", `${f(shared.sink_copy_staging_rows_per_s)} rows/s`),
    one(
      "sink, multi-row INSERT → temp table → upsert",
      `${f(shared.sink_insert_staging_rows_per_s)} rows/s`,
    ),
    row(
      "**worker drain, sustained (5%→95%)**",
      (r) => `${f(r.worker_rows_per_s_sustained)} rows/s`,
      {
        of: "worker_rows_per_s_sustained",
        kind: "new/old",
      },
    ),
    row("worker drain, total incl. start-up", (r) => `${f(r.worker_rows_per_s_total)} rows/s`, {
      of: "worker_rows_per_s_total",
      kind: "new/old",
    }),
    row(
      "worker drain / sink ceiling (COPY → temp table → upsert)",
      (r) => `${f((r.worker_fraction_of_sink_ceiling ?? NaN) * 100, 1)} %`,
    ),
    row("worker CPU per row", (r) => `${f(r.worker_cpu_us_per_row, 1)} µs`, {
      of: "worker_cpu_us_per_row",
      kind: "old/new",
    }),
    row(
      "CPU cores during the drain: worker / PostgreSQL / Kafka",
      (r) =>
        `${f(r.worker_cpu_cores, 2)} / ${f(r.postgres_cpu_cores, 2)} / ${f(r.kafka_cpu_cores, 2)}`,
    ),
    row("worker peak RSS", (r) => `${f(r.worker_peak_rss_mib, 1)} MiB`, {
      of: "worker_peak_rss_mib",
      kind: "old/new",
    }),
    row(
      `**e2e at ${f(RATE)} ev/s, p50** / p99 / max`,
      (r) => `${f(r.e2e_p50_ms, 1)} / ${f(r.e2e_p99_ms, 1)} / ${f(r.e2e_max_ms, 1)} ms`,
      { of: "e2e_p50_ms", kind: "old/new" },
    ),
    row("e2e p99", (r) => `${f(r.e2e_p99_ms, 1)} ms`, { of: "e2e_p99_ms", kind: "old/new" }),
    row(
      "of which producer send→ack (our producer), p50 / p99",
      (r) => `${f(r.e2e_produce_ack_p50_ms, 1)} / ${f(r.e2e_produce_ack_p99_ms, 1)} ms`,
    ),
    row(
      "worker warn/error log lines (drain, e2e)",
      (r) => `${f(r.drain_warn_error_lines)}, ${f(r.e2e_warn_error_lines)}`,
    ),
  ];
  const out = `${lines.join("\n")}\n${
    JSON.stringify({ baseline: tree?.commit, shared, new: n, old: o })
  }\n`;
  Deno.stdout.writeSync(new TextEncoder().encode(out));
}

/** The whole bench: ceilings, staging, the drain and the end-to-end latency. */
async function everything(): Promise<void> {
  if (!values["e2e-only"]) {
    say(`pre-filling ${N} events into ${topic}`);
    shared.produce_msgs_per_s = await prefill(kafka.connection, topic, N, seed);

    if (!values["skip-ceilings"]) {
      say("ceiling: plain consume through our consumer group");
      const consume = await consumeCeiling(
        kafka.connection,
        topic,
        N,
        uniqueName("bench_plain"),
        MAX_BYTES,
      );
      shared.plain_consume_msgs_per_s = consume.rate;

      say("ceiling: PostgreSQL COPY of the same rows");
      shared.copy_rows_per_s = (await copyCeiling(sql, schema("copy"), N, seed)).rate;

      say(`staging: ${STAGING_ROWS} rows through the sink, COPY vs INSERT`);
      shared.sink_copy_staging_rows_per_s = await sinkRate(
        sql,
        schema("stage_copy"),
        "copy",
        STAGING_ROWS,
        5_000,
        seed,
      );
      shared.sink_insert_staging_rows_per_s = await sinkRate(
        sql,
        schema("stage_insert"),
        "insert",
        STAGING_ROWS,
        5_000,
        seed,
      );
    }

    for (const program of programs) {
      say(`${program.label}: draining the topic`);
      Object.assign(measured[program.key], await attempt(program, "drain", drain));
    }
  }

  // The other order than the drain, so that neither program always goes first.
  for (const program of programs.toReversed()) {
    say(`${program.label}: end-to-end latency at ${RATE} events/s for ${SECONDS} s`);
    Object.assign(measured[program.key], await attempt(program, "e2e", latency));
  }
  printReport();
}
