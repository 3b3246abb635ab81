/**
 * `deno task bench:worker [--events N] [--rate R] [--seconds S] [--staging-rows M]
 *   [--partitions P] [--e2e-only] [--rounds K] [--skip-ceilings] [--baseline REV] [--versions]`
 *
 * On the shared local stack:
 * 1. pre-fills a unique topic (6 partitions) with N events (default 1,000,000);
 * 2. ceilings: a plain consume of that topic through our consumer group (no processing); one
 *    PostgreSQL `COPY` of the same rows into an empty table with the same primary key; and the
 *    worker's sink alone doing the drain's writes: the same N rows through the same statement
 *    path (`upsertIsolating` → sink → postgres dialect, default staging, one connection), the
 *    worker's default PostgreSQL flush size per transaction, into a table that grows from empty
 *    to N, its rows counted in the table like the drain's;
 * 3. staging: the worker's sink with COPY into a temporary table vs multi-row INSERT
 *    (`--staging-rows`, 5,000 a transaction, an empty table: a comparison, not a ceiling);
 * 4. the `worker` task (subprocess, default settings) drains the topic into PostgreSQL: rows/s
 *    counted where a user would (`select count(*)` on its table every second, 5 % → 95 %
 *    interpolated between counts; its own `worker_rows_upserted_total` only as a cross-check),
 *    peak RSS by `ps`, CPU time of worker, PostgreSQL and Kafka;
 * 5. end-to-end latency at a fixed rate (default 1,000 events/s for 20 s) on a fresh topic:
 *    produce with a send timestamp, row visible = a NOTIFY from an AFTER INSERT trigger,
 *    delivered on commit; and what it costs the broker: its CPU while the events are produced
 *    and consumed, against the same producer with no consumer measured in the same round, and
 *    the requests the worker sent it (TCP data segments from the worker to the broker's port,
 *    and the worker's `worker_offset_commits_total` where it has one).
 * `--rounds K` repeats steps 4 and 5 K times (the workers' order alternating, each drain with a
 * new group and schema, each e2e step with a new topic and new users) and reports medians.
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
import { socketCounters } from "./socket_counters.ts";
import {
  consumeCeiling,
  copyCeiling,
  cpuSeconds,
  prefill,
  quantile,
  type RowCountSampler,
  rssKiB,
  sampleRowCount,
  sinkCeiling,
  sinkRate,
  sustainedRate,
  withTimeout,
} from "./worker_bench_parts.ts";
import { FLUSH_DEFAULTS, WRITE_TIMEOUT_DEFAULTS } from "../worker/config.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    events: { type: "string", default: "1000000" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "20" },
    "staging-rows": { type: "string", default: "100000" },
    partitions: { type: "string", default: "6" },
    "e2e-only": { type: "boolean", default: false },
    rounds: { type: "string", default: "1" },
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
const ROUNDS = Number(values.rounds);
for (const [name, n] of Object.entries({ N, RATE, SECONDS, STAGING_ROWS, PARTITIONS, ROUNDS })) {
  if (!Number.isInteger(n) || n < 1 || n > 100_000_000) throw new Error(`Cannot parse ${name}`);
}
/** The load generator sends what is due every TICK_MS, in one request (as a batching ingest would). */
const TICK_MS = 5;
const MAX_BYTES = 4 * 1024 * 1024; // the worker's default fetch size
/** How often the drain's and the sink ceiling's tables are counted (`select count(*)`). */
const COUNT_MS = 1_000;
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

const say = (msg: string) => Deno.stderr.writeSync(new TextEncoder().encode(`[bench] ${msg}\n`));
// The same event-loop fix as the worker (see fixes/fast_immediate.ts), for the sink measures.
const uninstallImmediate = installFastImmediate();
const env = await sharedStack();
const kafka = await testKafka(env.KAFKA_BROKERS);
/** The broker's port (the first of KAFKA_BROKERS): the worker's requests go there. */
const BROKER_PORT = Number(env.KAFKA_BROKERS.split(",")[0]!.split(":").at(-1));

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
/** Every round's drain measures. */
const drains: Record<"new" | "old", Record<string, number>[]> = { new: [], old: [] };

/** E2e steps so far: each has its own topic and new users. */
let e2eSteps = 0;
/** Every round's drain and e2e measures (`--rounds`), for the JSON line. */
let e2eRounds: Record<string, Record<string, number>[]> | undefined;
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

/**
 * The worker of `program` drains the pre-filled topic with a new group into a new schema. Its
 * rows/s are rows counted in the table (`select count(*)` every COUNT_MS, the sampler the sink
 * ceiling runs under too), from 5 % to 95 % of N; the worker's own `worker_rows_upserted_total`
 * is read at the end as a cross-check, and its `worker_batch_size` gives the rows per flush.
 */
async function drain(program: Program, source = topic): Promise<Record<string, number>> {
  const workerSchema = schema(`drain_${program.key}`);
  const spawned = performance.now();
  const worker = await startWorker(program, {
    KAFKA_TOPIC: source,
    KAFKA_GROUP_ID: uniqueName(`bench_drain_${program.key}`),
    WAREHOUSE_SCHEMA: workerSchema,
  });
  const state = await readState("local");
  const brokerPids = await kafkaPids();
  const pgPids = state?.postgres.pid ? [state.postgres.pid] : [];
  const cpuBefore = {
    kafka: await cpuSeconds(brokerPids),
    pg: await cpuSeconds(pgPids, true),
  };
  let peakRss = 0;
  let sampler: RowCountSampler | undefined;
  const deadline = Date.now() + 900_000;
  try {
    // The worker creates the table at start; count from then on.
    while (!(await tableExists(workerSchema))) {
      if (Date.now() > deadline) throw new Error(`${program.label} made no table`);
      await new Promise((r) => setTimeout(r, 50));
    }
    sampler = await sampleRowCount(sql, `${workerSchema}.users`, COUNT_MS);
    while (sampler.latest() < N) {
      if (Date.now() > deadline) {
        throw new Error(`${program.label} stuck at ${sampler.latest()} rows`);
      }
      await new Promise((r) => setTimeout(r, 200));
      peakRss = Math.max(peakRss, await rssKiB(worker.pid));
    }
    const total = (sampler.samples.at(-1)!.at - spawned) / 1000;
    await sampler.stop();
    const workerCores = (await cpuSeconds([worker.pid])) / total;
    const counters = await workerCounters(worker.port);
    return {
      worker_cpu_cores: workerCores,
      kafka_cpu_cores: ((await cpuSeconds(brokerPids)) - cpuBefore.kafka) / total,
      // Backends that ended during the run are not counted: a lower bound.
      postgres_cpu_cores: ((await cpuSeconds(pgPids, true)) - cpuBefore.pg) / total,
      worker_cpu_us_per_row: (workerCores * total * 1e6) / N,
      worker_rows_per_s_total: N / total,
      worker_rows_per_s_sustained: sustainedRate(sampler.samples, N),
      drain_count_ms_p50: quantile(sampler.countMs.toSorted((a, b) => a - b), 0.5),
      worker_peak_rss_mib: peakRss / 1024,
      worker_table_rows: sampler.latest(),
      worker_rows_upserted_metric: counters.rowsUpserted,
      worker_rows_per_flush: counters.rowsPerFlush,
      drain_warn_error_lines: await stopWorker(worker),
    };
  } finally {
    await sampler?.stop();
    if (running.has(worker)) await stopWorker(worker);
  }
}

async function tableExists(s: string): Promise<boolean> {
  const [row] = await sql`select to_regclass(${`${s}.users`}) is not null as ok`;
  return Boolean(row?.ok);
}

/** The worker's own count of rows written, and its mean records per flush. */
async function workerCounters(
  port: number,
): Promise<{ rowsUpserted: number; rowsPerFlush: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? NaN);
  return {
    rowsUpserted: read("worker_rows_upserted_total"),
    rowsPerFlush: read("worker_batch_size_sum") / read("worker_batch_size_count"),
  };
}

/** The broker's processes, from the local stack's state. */
async function kafkaPids(): Promise<number[]> {
  const state = await readState("local");
  return (state?.kafka ?? []).flatMap((k) => k.pid ? [k.pid] : []);
}

/**
 * Produces RATE events/s for SECONDS to `to` (what is due every TICK_MS in one send, as a
 * batching ingest would); `sentAt` hears each event after the warm-up (the first two seconds).
 * Returns the send → ack times and the broker's CPU seconds over the sending.
 */
async function produceAtRate(
  to: string,
  sentAt: (id: string, at: number) => void,
): Promise<{ acks: number[]; brokerCpuSeconds: number; seconds: number }> {
  // New users every time: a user already in a table is an UPDATE, which the e2e step's
  // AFTER INSERT trigger does not see.
  const first = N + RATE * SECONDS * e2eSteps++;
  const producer = createKafkaProducer(kafka.connection, {
    logger: silentLogger,
    clientIdSuffix: "-e2e",
  });
  const acks: number[] = [];
  try {
    await producer.connect([to]);
    const pids = await kafkaPids();
    const total = RATE * SECONDS;
    const warmup = RATE * 2;
    const cpuBefore = await cpuSeconds(pids);
    const started = performance.now();
    let i = 0;
    const inFlight = new Set<Promise<unknown>>();
    // Bounded: one tick per TICK_MS, and the loop ends after SECONDS (or a minute more).
    const deadline = started + SECONDS * 1000 + 60_000;
    while (i < total && performance.now() < deadline) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
      if (due > i) {
        const messages: ProducerMessage[] = [];
        for (; i < due; i++) {
          const e = seededEvent(first + i, seed);
          e.accepted_at = new Date().toISOString();
          messages.push({ key: e.user.id, value: encodeEvent(e) });
          if (i >= warmup) sentAt(e.user.id, performance.now());
        }
        const t = performance.now();
        const p = producer.send(to, messages).then(() => acks.push(performance.now() - t))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    await Promise.all(inFlight);
    const seconds = (performance.now() - started) / 1000;
    return { acks, brokerCpuSeconds: (await cpuSeconds(pids)) - cpuBefore, seconds };
  } finally {
    await producer.close();
  }
}

/**
 * The broker's CPU under the e2e step's producer alone (no consumer): what the broker costs
 * before any worker reads, measured in the same run as the workers' e2e steps.
 */
async function producerAlone(): Promise<Record<string, number>> {
  const aloneTopic = `${topic}_e2e_alone_${e2eSteps}`;
  topics.push(aloneTopic);
  await kafka.createTopics([aloneTopic], PARTITIONS);
  const r = await produceAtRate(aloneTopic, () => {});
  return {
    e2e_alone_broker_cores: r.brokerCpuSeconds / r.seconds,
    e2e_alone_broker_cpu_ms_per_1000: (r.brokerCpuSeconds * 1e6) / (RATE * SECONDS),
  };
}

/** The worker's `worker_offset_commits_total` (undefined: a worker without that metric). */
async function offsetCommits(port: number): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = /^worker_offset_commits_total (\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * End-to-end latency of `program`'s worker on a fresh topic at RATE events/s, and what it cost
 * the broker: the broker's CPU while the events were produced and consumed, and the requests
 * the worker sent it (TCP data segments from the worker to the broker's port, `ss`; and its
 * own count of offset commits where it has one).
 */
async function latency(program: Program): Promise<Record<string, number>> {
  const s = schema(`e2e_${program.key}`);
  const latencyTopic = `${topic}_e2e_${program.key}_${e2eSteps}`;
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
  const listener = await sql.listen(s, (id) => {
    const t = sent.get(id);
    if (t !== undefined) latencies.push(performance.now() - t);
  });
  const worker = await startWorker(program, {
    KAFKA_TOPIC: latencyTopic,
    KAFKA_GROUP_ID: uniqueName(`bench_e2e_${program.key}`),
    WAREHOUSE_SCHEMA: s,
  });
  try {
    await worker.waitForLog((l) => l.msg === "joined group", 60_000, '"joined group"');
    const socketsBefore = await socketCounters(worker.pid, BROKER_PORT);
    const commitsBefore = await offsetCommits(worker.port);
    const workerCpuBefore = await cpuSeconds([worker.pid]);
    const produced = await produceAtRate(latencyTopic, (id, at) => sent.set(id, at));
    const sockets = await socketCounters(worker.pid, BROKER_PORT);
    const commits = await offsetCommits(worker.port);
    const workerCpu = (await cpuSeconds([worker.pid])) - workerCpuBefore;
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
    const ackSorted = produced.acks.toSorted((a, b) => a - b);
    const events = RATE * SECONDS;
    return {
      e2e_produce_ack_p50_ms: quantile(ackSorted, 0.5),
      e2e_produce_ack_p99_ms: quantile(ackSorted, 0.99),
      e2e_events: sorted.length,
      e2e_expected: sent.size,
      e2e_p50_ms: quantile(sorted, 0.5),
      e2e_p99_ms: quantile(sorted, 0.99),
      e2e_max_ms: sorted.at(-1) ?? NaN,
      e2e_seconds: produced.seconds,
      e2e_broker_cores: produced.brokerCpuSeconds / produced.seconds,
      e2e_broker_cpu_ms_per_1000: (produced.brokerCpuSeconds * 1e6) / events,
      e2e_worker_cores: workerCpu / produced.seconds,
      e2e_worker_segments_per_s: (sockets.dataSegmentsOut - socketsBefore.dataSegmentsOut) /
        produced.seconds,
      ...(commits !== undefined && commitsBefore !== undefined
        ? { e2e_offset_commits_per_s: (commits - commitsBefore) / produced.seconds }
        : {}),
      e2e_warn_error_lines: await stopWorker(worker),
    };
  } finally {
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
  // The worker's sink alone, doing the drain's writes (same rows, flush size, statements, one
  // connection, a table growing from empty to N, counted the same way): the ceiling a drain is
  // held to, unless a plain consume is slower.
  const ceiling = Math.min(
    shared.plain_consume_msgs_per_s ?? Infinity,
    shared.sink_ceiling_rows_per_s ?? Infinity,
  );
  for (const r of [n, o]) {
    if (r.worker_rows_per_s_sustained !== undefined && Number.isFinite(ceiling)) {
      r.worker_fraction_of_sink_ceiling = r.worker_rows_per_s_sustained / ceiling;
    }
  }
  const flush = f(FLUSH_DEFAULTS.postgres.rows);
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
    one(
      `**ceiling: the worker's sink alone**, ${f(N)} rows, ${flush} a transaction, table growing ` +
        `from empty, rows counted in the table (5%→95%)`,
      `${f(shared.sink_ceiling_rows_per_s)} rows/s (own clock ${
        f(shared.sink_ceiling_own_clock_rows_per_s)
      }; with start and end ${f(shared.sink_ceiling_total_rows_per_s)})`,
    ),
    one(
      `staging, ${f(STAGING_ROWS)} rows, 5,000 a transaction, empty table: COPY / multi-row INSERT`,
      `${f(shared.sink_copy_staging_rows_per_s)} / ${
        f(shared.sink_insert_staging_rows_per_s)
      } rows/s`,
    ),
    row(
      "**worker drain, rows counted in the table (5%→95%)**",
      (r) => `${f(r.worker_rows_per_s_sustained)} rows/s`,
      {
        of: "worker_rows_per_s_sustained",
        kind: "new/old",
      },
    ),
    row(
      "worker drain, from the worker's start to the last row counted",
      (r) => `${f(r.worker_rows_per_s_total)} rows/s`,
      { of: "worker_rows_per_s_total", kind: "new/old" },
    ),
    row(
      "worker drain / sink ceiling",
      (r) => `${f((r.worker_fraction_of_sink_ceiling ?? NaN) * 100, 1)} %`,
    ),
    row(
      "cross-checks: rows in the table / the worker's own count; rows per flush (mean)",
      (r) =>
        `${f(r.worker_table_rows)} / ${f(r.worker_rows_upserted_metric)}; ${
          f(r.worker_rows_per_flush)
        }`,
    ),
    row(
      `what counting costs: count(*) p50, ceiling / drain (every ${f(COUNT_MS)} ms)`,
      (r) => `${f(shared.sink_ceiling_count_ms_p50, 1)} / ${f(r.drain_count_ms_p50, 1)} ms`,
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
    one(
      `broker CPU, e2e producer alone (no consumer), ${f(RATE)} ev/s`,
      `${f(shared.e2e_alone_broker_cores, 3)} cores, ${
        f(shared.e2e_alone_broker_cpu_ms_per_1000, 1)
      } ms per 1,000 events`,
    ),
    row(
      `**broker CPU, e2e at ${f(RATE)} ev/s** (producer + this worker)`,
      (r) =>
        `${f(r.e2e_broker_cores, 3)} cores, ${
          f(r.e2e_broker_cpu_ms_per_1000, 1)
        } ms per 1,000 events`,
      { of: "e2e_broker_cores", kind: "old/new" },
    ),
    row(
      "of which the worker's share (minus the producer alone)",
      (r) => `${f((r.e2e_broker_cores ?? NaN) - (shared.e2e_alone_broker_cores ?? NaN), 3)} cores`,
    ),
    row(
      "worker → broker requests/s (TCP data segments); offset commits/s",
      (r) => `${f(r.e2e_worker_segments_per_s, 1)}; ${f(r.e2e_offset_commits_per_s, 1)}`,
    ),
    row("worker CPU, e2e", (r) => `${f(r.e2e_worker_cores, 3)} cores`),
    ...(ROUNDS > 1
      ? [
        one(
          `rounds (medians above): broker cores per round, e2e producer alone`,
          (e2eRounds?.alone ?? []).map((r) => f(r.e2e_alone_broker_cores, 3)).join(", "),
        ),
        row(
          "e2e rounds: broker cores per round (producer + this worker)",
          (r) =>
            (e2eRounds?.[r === n ? "new" : "old"] ?? []).map((x) => f(x.e2e_broker_cores, 3))
              .join(", "),
        ),
        row(
          "drain rounds: rows/s counted in the table, per round",
          (r) =>
            (e2eRounds?.[r === n ? "drain_new" : "drain_old"] ?? []).map((x) =>
              f(x.worker_rows_per_s_sustained)
            ).join(", "),
        ),
        row(
          "e2e rounds: p50 / p99 ms per round",
          (r) =>
            (e2eRounds?.[r === n ? "new" : "old"] ?? []).map((x) =>
              `${f(x.e2e_p50_ms, 1)}/${f(x.e2e_p99_ms, 1)}`
            ).join(", "),
        ),
      ]
      : []),
    row(
      "worker warn/error log lines (drain, e2e)",
      (r) => `${f(r.drain_warn_error_lines)}, ${f(r.e2e_warn_error_lines)}`,
    ),
  ];
  const out = `${lines.join("\n")}\n${
    JSON.stringify({ baseline: tree?.commit, shared, new: n, old: o, e2eRounds })
  }\n`;
  Deno.stdout.writeSync(new TextEncoder().encode(out));
}

/** Each key's median over `rounds` (the keys of the first round). */
function medians(rounds: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(rounds[0] ?? {})) {
    const values = rounds.map((r) => r[key]).filter((v): v is number => v !== undefined)
      .toSorted((a, b) => a - b);
    const mid = Math.floor(values.length / 2);
    out[key] = values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
  }
  return out;
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

      say(
        `ceiling: the worker's sink alone, ${N} rows, ${FLUSH_DEFAULTS.postgres.rows} a transaction`,
      );
      const ceiling = await sinkCeiling(
        () => postgres(env.WAREHOUSE_URL, { ...pgOptions, max: 1 }),
        schema("sink"),
        N,
        seed,
        {
          flushRows: FLUSH_DEFAULTS.postgres.rows,
          writeTimeoutMs: WRITE_TIMEOUT_DEFAULTS.postgres,
          sampleMs: COUNT_MS,
        },
      );
      shared.sink_ceiling_rows_per_s = ceiling.sustained;
      shared.sink_ceiling_own_clock_rows_per_s = ceiling.ownSustained;
      shared.sink_ceiling_total_rows_per_s = ceiling.total;
      shared.sink_ceiling_count_ms_p50 = quantile(ceiling.countMs.toSorted((a, b) => a - b), 0.5);

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

    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? programs : programs.toReversed();
      for (const program of order) {
        say(`${program.label}: draining the topic (round ${round}/${ROUNDS})`);
        drains[program.key].push(await attempt(program, "drain", drain));
      }
    }
    for (const key of ["new", "old"] as const) Object.assign(measured[key], medians(drains[key]));
  }

  // Each round: the producer alone, then each worker; the order of the workers alternates
  // (the first round in the other order than the drain), and each measure is the median of
  // its rounds (every round's value is in the JSON line).
  const alone: Record<string, number>[] = [];
  const e2e: Record<"new" | "old", Record<string, number>[]> = { new: [], old: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    say(`e2e round ${round}/${ROUNDS}: the producer alone at ${RATE} events/s for ${SECONDS} s`);
    alone.push(await producerAlone());
    const order = round % 2 === 1 ? programs.toReversed() : programs;
    for (const program of order) {
      say(`${program.label}: end-to-end latency at ${RATE} events/s for ${SECONDS} s`);
      e2e[program.key].push(await attempt(program, "e2e", latency));
    }
  }
  Object.assign(shared, medians(alone));
  for (const key of ["new", "old"] as const) Object.assign(measured[key], medians(e2e[key]));
  e2eRounds = {
    alone,
    ...e2e,
    ...(drains.new.length > 0 ? { drain_new: drains.new, drain_old: drains.old } : {}),
  };
  printReport();
}
