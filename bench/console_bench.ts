// deno-lint-ignore-file no-console -- a command-line tool: its output is for the terminal
/**
 * `deno task bench:console`: what the console costs the pipeline, on the shared local stack, in
 * one run.
 *
 * 1. **Overhead.** Ingest and worker run under a steady load (`load/main.ts`, `--rate` events/s,
 *    single signed events) while windows of `--seconds` alternate console off, on, off, on
 *    (`--windows`). In an "on" window the console runs with `CONSOLE_POLL_MS=1000`, scraping the
 *    ingest and the worker, with `--pages` event streams (`GET /api/live`) open. The CPU time of
 *    the broker (its java process), the ingest and the worker is read from `/proc` at each
 *    window's start and end (after a settling pause that is not measured); the report gives each
 *    one's cores off and on, the difference, the difference in % of one core, and the spread
 *    between windows of the same kind (the noise to read the difference against), plus the
 *    console's own CPU and peak RSS.
 * 2. **One poller.** A new console with 1 page, then with `--pages`: its TCP data segments and
 *    bytes sent to the broker per second (`ss`; about one segment per Kafka request), the
 *    snapshots each page received, and whether every page received the same snapshots.
 * 3. **Look-up.** The table holds `--rows` generated rows (`insert … select generate_series`, in
 *    the worker's own DDL) plus the rows the worker wrote from a pre-filled history of
 *    `--history` events and the load. `GET /api/find?user_id=…` for `--lookups` users of the
 *    history, with the pages open: p50/p99 against the ceiling, the bare
 *    `select … where id = $1` of the same rows in the same run.
 * 4. **Memory.** The same console's RSS every second: before the pages, with the pages open and
 *    during the look-ups and long scans (a find by an event id nobody has, which reads every
 *    partition to `CONSOLE_FIND_MAX_RECORDS` or its time limit), and after the pages closed.
 * 5. **Memory through rounds.** `--rounds` rounds of the same look-ups and long scans, in
 *    consoles side by side with `--pages` pages each, in turn: this checkout's console as its
 *    task runs it, the same without the task's `--v8-flags` (and with each `--also-v8-flags
 *    FLAGS`, for tuning), and with `--baseline REV` the console of REV (checked out beside this
 *    one, `bench/revision_tree.ts`). RSS after each round and its peak, V8's heap from this
 *    checkout's `search` log lines, look-up and scan times, CPU, failed requests, and RSS 15 s
 *    after the pages closed. Growth per round is a leak; a rise in the first round that then
 *    stays is a high-water mark.
 *
 * Prints Markdown tables (machine, load average, command first) and one JSON line. Everything
 * it creates (topics, schema, processes) is removed at the end.
 *
 * ```sh
 * deno task bench:console [--seconds 30] [--windows 4] [--rate 200] [--pages 10] [--rows 1000000]
 *   [--history 30000] [--lookups 20] [--scans 3] [--rounds 5] [--baseline REV]
 *   [--also-v8-flags FLAGS]...
 * ```
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { sharedStack, uniqueName } from "../stack/harness.ts";
import { readState } from "../stack/stack.ts";
import { testKafka } from "../testing/kafka.ts";
import {
  complaints,
  type RunningProgram,
  type StartOptions,
  startProgram,
} from "../testing/program.ts";
import { taskArgs } from "../stack/programs.ts";
import { seededEvent } from "../testing/users.ts";
import { createPostgresDialect } from "../worker/warehouse/postgres_dialect.ts";
import { cpuOverhead, type CpuWindow } from "./cpu_overhead.ts";
import { cpuSeconds } from "./ingest_sampler.ts";
import { type Contender, type ContenderRounds, runRounds, spread } from "./console_rounds.ts";
import { checkoutRevision, headCommit, type RevisionTree } from "./revision_tree.ts";
import { socketCounters } from "./socket_counters.ts";
import { openSseClients, type SseClients } from "./sse_clients.ts";
import { prefill, quantile, rssKiB } from "./worker_bench_parts.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "30" },
    windows: { type: "string", default: "4" },
    settle: { type: "string", default: "5" },
    rate: { type: "string", default: "200" },
    pages: { type: "string", default: "10" },
    rows: { type: "string", default: "1000000" },
    history: { type: "string", default: "30000" },
    lookups: { type: "string", default: "20" },
    scans: { type: "string", default: "3" },
    partitions: { type: "string", default: "6" },
    rounds: { type: "string", default: "5" },
    baseline: { type: "string" },
    "also-v8-flags": { type: "string", multiple: true },
  },
});
const number = (name: string, min: number, max: number): number => {
  const n = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`Cannot parse --${name}: expected an integer ${min}..${max}`);
  }
  return n;
};
const SECONDS = number("seconds", 2, 600);
const WINDOWS = number("windows", 2, 20);
const SETTLE = number("settle", 1, 60);
const RATE = number("rate", 1, 5_000);
const PAGES = number("pages", 1, 100);
const ROWS = number("rows", 0, 20_000_000);
const HISTORY = number("history", 1, 2_000_000);
const LOOKUPS = number("lookups", 1, 1_000);
const SCANS = number("scans", 0, 20);
const PARTITIONS = number("partitions", 1, 64);
const ROUNDS = number("rounds", 0, 50);

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const SECRET = "whsec_" + btoa(crypto.randomUUID());
const COMMAND = `deno task bench:console ${Deno.args.join(" ")}`.trim();
const started = performance.now();
const say = (msg: string) =>
  console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0)} s] ${msg}`);
/** Longest one request to the console may take: a search is bounded by the console itself. */
const REQUEST_TIMEOUT_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

const loadBefore = Deno.loadavg();
const env = await sharedStack();
const state = await readState("local");
const brokerPid = state?.kafka[0]?.pid;
const brokerPort = Number(env.KAFKA_BROKERS.split(",")[0]!.split(":").pop());
if (brokerPid === undefined) throw new Error("The local stack's state names no broker process");
const kafka = await testKafka(env.KAFKA_BROKERS);
const sql = postgres(env.WAREHOUSE_URL, { max: 2, onnotice: () => {} });
const topic = uniqueName("bench_console");
const dlq = `${topic}.dlq`;
const schema = uniqueName("bench_console");
const groupId = uniqueName("bench_console");
const seed = crypto.randomUUID().slice(0, 8);
const running = new Set<RunningProgram>();
let load: Deno.ChildProcess | undefined;
let tree: RevisionTree | undefined;
const results: Record<string, unknown> = {};
// Interrupted (Ctrl-C, a timeout): the programs and the load generator go too.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    for (const p of running) p.kill("SIGKILL");
    try {
      load?.kill("SIGKILL");
    } catch { /* gone */ }
    say(
      `${signal}: stopped; topic ${topic}, schema ${schema}${tree ? `, ${tree.dir}` : ""} are left`,
    );
    Deno.exit(130);
  });
}

try {
  if (values.baseline) {
    tree = await checkoutRevision(ROOT, values.baseline);
    say(`baseline ${tree.commit} "${tree.subject}" checked out in ${tree.dir}`);
  }
  await kafka.createTopics([topic, dlq], PARTITIONS);
  say(`${ROWS} rows into ${schema}.users (generate_series, the worker's DDL)`);
  for (const ddl of createPostgresDialect({ schema, table: "users" }).createTable()) {
    await sql.unsafe(ddl);
  }
  const fillStart = performance.now();
  // Ids and event ids are UUIDs (from md5) that no event of the bench carries.
  await sql.unsafe(`insert into ${schema}.users
      (id, first_name, last_name, email, source, event_id, event_time, date_added, updated_at)
    select md5('u' || i)::uuid::text, 'First' || i, 'Last' || i, 'user' || i || '@example.com',
      'webhook', md5('e' || i)::uuid::text, now() - interval '1 day', now(), now()
    from generate_series(1, ${ROWS}) as i`);
  await sql.unsafe(`analyze ${schema}.users`);
  results.fillSeconds = round((performance.now() - fillStart) / 1000, 1);
  say(`filled in ${results.fillSeconds} s`);

  say(`history: ${HISTORY} events to ${topic}, drained by the worker`);
  await prefill(kafka.connection, topic, HISTORY, seed);
  const worker = await start("worker", {
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: dlq,
    KAFKA_GROUP_ID: groupId,
    WAREHOUSE_URL: env.WAREHOUSE_URL,
    WAREHOUSE_SCHEMA: schema,
    LOG_LEVEL: "info",
  });
  const drainDeadline = Date.now() + 180_000;
  while (!(await kafka.committedUpTo(groupId, topic))) {
    if (Date.now() > drainDeadline) throw new Error("The worker did not drain the history");
    await sleep(500);
  }
  const ingest = await start("ingest", {
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    KAFKA_TOPIC: topic,
    WEBHOOK_SECRET: SECRET,
    PULL_ENABLED: "false",
    LOG_LEVEL: "info",
  });
  load = startLoad(ingest.port);
  const consoleEnv = {
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: dlq,
    KAFKA_GROUP_ID: groupId,
    CONSOLE_POLL_MS: "1000",
    CONSOLE_INGEST_URLS: `http://127.0.0.1:${ingest.port}`,
    CONSOLE_WORKER_URLS: `http://127.0.0.1:${worker.port}`,
    CONSOLE_WAREHOUSE_URL: env.WAREHOUSE_URL,
    WAREHOUSE_SCHEMA: schema,
    LOG_LEVEL: "info",
  };
  say(`load: ${RATE} events/s; warm-up ${SETTLE * 2} s`);
  await sleep(SETTLE * 2_000);

  // 1. Off, on, off, on, …
  const windows: CpuWindow[] = [];
  const perWindow: Record<string, number | string>[] = [];
  const consoleOn: { cores: number; rssMaxMiB: number }[] = [];
  for (let i = 0; i < WINDOWS; i++) {
    const mode = i % 2 === 0 ? "off" : "on";
    let watcher: RunningProgram | undefined;
    let pages: SseClients | undefined;
    if (mode === "on") {
      watcher = await start("console", consoleEnv);
      pages = await openSseClients(`http://127.0.0.1:${watcher.port}/api/live`, PAGES);
    }
    await sleep(SETTLE * 1000);
    say(`window ${i + 1}/${WINDOWS}: console ${mode}, ${SECONDS} s`);
    const pids = { broker: brokerPid, ingest: ingest.pid, worker: worker.pid };
    const sample = async () => ({
      cpu: Object.fromEntries(
        await Promise.all(
          Object.entries(pids).map(async ([k, pid]) => [k, await cpuOf(pid)] as const),
        ),
      ),
      console: watcher ? await cpuOf(watcher.pid) : Number.NaN,
      accepted: await counter(ingest.port, "ingest_events_accepted_total"),
      rows: await counter(worker.port, "worker_rows_upserted_total"),
      t: performance.now(),
    });
    const before = await sample();
    let rssMax = 0;
    const end = before.t + SECONDS * 1000;
    while (performance.now() < end - 1000) {
      await sleep(1000);
      if (watcher) rssMax = Math.max(rssMax, await rssKiB(watcher.pid));
    }
    await sleep(Math.max(0, end - performance.now()));
    const after = await sample();
    const seconds = (after.t - before.t) / 1000;
    const used = Object.fromEntries(
      Object.keys(pids).map((k) => [k, after.cpu[k]! - before.cpu[k]!]),
    );
    windows.push({ mode, seconds, cpuSeconds: used });
    perWindow.push({
      mode,
      seconds: round(seconds, 2),
      ...Object.fromEntries(Object.entries(used).map(([k, v]) => [k, round(v / seconds, 4)])),
      acceptedPerS: round((after.accepted - before.accepted) / seconds, 1),
      rowsPerS: round((after.rows - before.rows) / seconds, 1),
    });
    if (watcher) {
      consoleOn.push({
        cores: (after.console - before.console) / seconds,
        rssMaxMiB: mib(rssMax),
      });
      await pages!.close();
      await stop(watcher);
    }
  }
  results.windows = perWindow;
  results.overhead = cpuOverhead(windows);
  results.consoleOn = consoleOn;

  // 2–4. One console: listeners, look-ups, memory.
  const watcher = await start("console", consoleEnv);
  const base = `http://127.0.0.1:${watcher.port}`;
  const rss: { phase: string; kib: number }[] = [];
  let phase = "before";
  let sampling = true;
  const rssLoop = (async () => {
    const stopAt = Date.now() + 600_000;
    while (sampling && Date.now() < stopAt) {
      rss.push({ phase, kib: await rssKiB(watcher.pid) });
      await sleep(1000);
    }
  })();
  say("console: 10 s before any page");
  await sleep(10_000);
  phase = "pages";
  const listeners: Record<string, unknown>[] = [];
  const one = await openSseClients(`${base}/api/live`, 1);
  listeners.push(await countPolling(one, watcher.pid, "1"));
  const more = await openSseClients(`${base}/api/live`, PAGES - 1);
  const all: SseClients = {
    size: () => one.size() + more.size(),
    counts: () => [...one.counts(), ...more.counts()],
    times: () => [...one.times(), ...more.times()],
    close: async () => void await Promise.all([one.close(), more.close()]),
  };
  listeners.push(await countPolling(all, watcher.pid, String(PAGES)));
  results.listeners = listeners;

  say(`look-ups: ${LOOKUPS} users of the history, ${PAGES} pages open`);
  phase = "pages+look-ups";
  const users = Array.from(
    { length: LOOKUPS },
    (_, i) => seededEvent(Math.floor((i * HISTORY) / LOOKUPS), seed).user.id,
  );
  const finds: number[] = [];
  const bare: number[] = [];
  const scanned: number[] = [];
  const paths: Record<string, number> = {};
  for (const [i, id] of users.entries()) {
    const viaConsole = async () => {
      const t = performance.now();
      const res = await fetch(`${base}/api/find?user_id=${id}`, {
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = await res.json();
      finds.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`find ${id}: ${res.status} ${JSON.stringify(body)}`);
      scanned.push(body.topicScan.records);
      const kind = body.found[0]?.path?.kind ?? "not found";
      paths[kind] = (paths[kind] ?? 0) + 1;
    };
    const direct = async () => {
      const t = performance.now();
      await sql.unsafe(
        `select id, event_id, source, event_time, date_added, updated_at from ${schema}.users ` +
          `where id = $1`,
        [id],
      );
      bare.push(performance.now() - t);
    };
    // Either goes first in turn: neither always finds the row in a warm cache.
    if (i % 2 === 0) await viaConsole().then(direct);
    else await direct().then(viaConsole);
  }
  say(`look-ups done: ${finds.map((ms) => ms.toFixed(0)).join(" ")} ms`);
  const sorted = (xs: number[]) => xs.toSorted((a, b) => a - b);
  results.lookup = {
    p50Ms: round(quantile(sorted(finds), 0.5), 1),
    p99Ms: round(quantile(sorted(finds), 0.99), 1),
    maxMs: round(Math.max(...finds), 1),
    bareP50Ms: round(quantile(sorted(bare), 0.5), 2),
    bareP99Ms: round(quantile(sorted(bare), 0.99), 2),
    recordsScannedP50: quantile(sorted(scanned), 0.5),
    recordsScannedMax: Math.max(...scanned),
    paths,
    tableRows: Number((await sql.unsafe(`select count(*)::int as n from ${schema}.users`))[0]!.n),
  };

  phase = "pages+scans";
  const scans: Record<string, unknown>[] = [];
  for (let i = 0; i < SCANS; i++) {
    say(`long scan ${i + 1}/${SCANS}: an event id nobody has`);
    const t = performance.now();
    const res = await fetch(`${base}/api/find?event_id=${crypto.randomUUID()}`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = await res.json();
    say(`  ${res.status} in ${(performance.now() - t).toFixed(0)} ms`);
    scans.push({
      ms: round(performance.now() - t, 0),
      status: res.status,
      records: body.topicScan?.records,
      stoppedBy: body.topicScan?.stoppedBy,
    });
  }
  results.scans = scans;
  phase = "pages, after the scans";
  await sleep(5_000);
  const closing = performance.now();
  await all.close();
  say(`pages closed in ${(performance.now() - closing).toFixed(0)} ms`);
  phase = "after";
  say("console: 15 s after the pages closed");
  await sleep(15_000);
  sampling = false;
  await rssLoop;
  results.memory = memorySummary(rss);
  results.consoleComplaints = complaints(watcher.logs).length;
  await stop(watcher);

  // 5. Rounds of the same look-ups and scans in consoles side by side.
  if (ROUNDS > 0) {
    const flags = taskArgs("console").find((a) => a.startsWith("--v8-flags="));
    const kinds: { label: string; opts: StartOptions }[] = [
      { label: `this checkout (${flags ?? "no --v8-flags"})`, opts: {} },
      ...(flags ? [{ label: "this checkout, no --v8-flags", opts: { v8Flags: "" } }] : []),
      ...(values["also-v8-flags"] ?? []).map((f) => ({
        label: `this checkout, --v8-flags=${f}`,
        opts: { v8Flags: `--v8-flags=${f}` },
      })),
      ...(tree ? [{ label: `${tree.commit} (--baseline)`, opts: { root: tree.dir } }] : []),
    ];
    const contenders: Contender[] = [];
    const pagesOf: SseClients[] = [];
    for (const k of kinds) {
      const program = await start("console", { ...consoleEnv, LOG_LEVEL: "debug" }, k.opts);
      pagesOf.push(await openSseClients(`http://127.0.0.1:${program.port}/api/live`, PAGES));
      contenders.push({ label: k.label, program });
    }
    say(`rounds: ${contenders.length} consoles, ${PAGES} pages each; 10 s to settle`);
    await sleep(10_000);
    const rounds = await runRounds(contenders, {
      rounds: ROUNDS,
      users,
      scans: SCANS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      say,
    });
    await Promise.all(pagesOf.map((p) => p.close()));
    say("rounds: 15 s after the pages closed");
    await sleep(15_000);
    results.rounds = await Promise.all(rounds.map(async (r, i) => ({
      ...r,
      idleAfterMiB: mib(await rssKiB(contenders[i]!.program.pid)),
      lookup: spread(r.lookupMs),
      scan: spread(r.scanMs),
      lookupMs: undefined,
      scanMs: undefined,
    })));
    for (const c of contenders) await stop(c.program);
  }
} finally {
  if (load) {
    try {
      load.kill("SIGKILL");
    } catch { /* gone */ }
    await load.status;
  }
  for (const p of running) await p.stop("SIGTERM");
  await tree?.remove();
  await kafka.admin.deleteTopics([topic, dlq]).catch(() => {});
  await kafka.close();
  await sql.unsafe(`drop schema if exists ${schema} cascade`).catch(() => {});
  await sql.end();
}
results.totalSeconds = round((performance.now() - started) / 1000, 0);
await printReport();

async function start(
  name: "ingest" | "worker" | "console",
  programEnv: Record<string, string>,
  opts: StartOptions = {},
): Promise<RunningProgram> {
  const p = await startProgram(name, programEnv, opts);
  running.add(p);
  return p;
}

async function stop(p: RunningProgram): Promise<void> {
  running.delete(p);
  for (const line of complaints(p.logs).slice(0, 3)) {
    say(`  ${p.name} logged ${JSON.stringify(line)}`);
  }
  await p.stop("SIGTERM");
}

async function cpuOf(pid: number): Promise<number> {
  return await cpuSeconds(pid).catch(() => Number.NaN);
}

/** The sum of a counter's series in a program's `/metrics`. */
async function counter(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: AbortSignal.timeout(10_000),
  })).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)`, "gm"))) {
    sum += Number(m[1]);
  }
  return sum;
}

/** The load generator as its own process, for longer than the bench needs (killed at the end). */
function startLoad(port: number): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env=WEBHOOK_SECRET",
      "load/main.ts",
      `--url=http://127.0.0.1:${port}/v1/users`,
      `--rate=${RATE}`,
      `--count=${100_000_000}`,
      "--duration=1800",
      "--concurrency=8",
      "--json",
    ],
    cwd: ROOT,
    env: { WEBHOOK_SECRET: SECRET },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}

/**
 * The console's requests to the broker and the snapshots its pages received over 10 s, with
 * `pages` open (after 2 s to settle).
 */
async function countPolling(
  pages: SseClients,
  pid: number,
  label: string,
): Promise<Record<string, unknown>> {
  say(`console with ${label} page(s): 10 s of polling counted`);
  await sleep(2_000);
  const t0 = performance.now();
  const s0 = await socketCounters(pid, brokerPort);
  const c0 = pages.counts();
  const seen0 = pages.times().map((t) => t.length);
  await sleep(10_000);
  const s1 = await socketCounters(pid, brokerPort);
  const seconds = (performance.now() - t0) / 1000;
  const c1 = pages.counts();
  const inWindow = pages.times().map((t, i) => t.slice(seen0[i]));
  const distinct = new Set(inWindow.flat()).size;
  const perPage = c1.map((c, i) => c - c0[i]!);
  return {
    pages: pages.size(),
    kafkaSegmentsPerS: round((s1.dataSegmentsOut - s0.dataSegmentsOut) / seconds, 2),
    // Per poll: a busy machine stretches the 1 s interval, and the rate per second with it.
    kafkaSegmentsPerSnapshot: round(
      (s1.dataSegmentsOut - s0.dataSegmentsOut) /
        (perPage.reduce((a, b) => a + b, 0) / perPage.length),
      2,
    ),
    kafkaBytesPerS: round((s1.bytesSent - s0.bytesSent) / seconds, 0),
    kafkaConnections: s1.connections,
    snapshotsPerPagePerS: round(perPage.reduce((a, b) => a + b, 0) / perPage.length / seconds, 2),
    distinctSnapshots: distinct,
    snapshotsPerPage: `${Math.min(...perPage)}–${Math.max(...perPage)}`,
  };
}

function memorySummary(samples: { phase: string; kib: number }[]): Record<string, unknown> {
  const of = (p: string) => samples.filter((s) => s.phase === p).map((s) => s.kib);
  const phases: Record<string, { minMiB: number; maxMiB: number; samples: number }> = {};
  for (
    const p of [
      "before",
      "pages",
      "pages+look-ups",
      "pages+scans",
      "pages, after the scans",
      "after",
    ]
  ) {
    const xs = of(p);
    if (xs.length) {
      phases[p] = {
        minMiB: mib(Math.min(...xs)),
        maxMiB: mib(Math.max(...xs)),
        samples: xs.length,
      };
    }
  }
  const all = samples.map((s) => s.kib);
  const before = of("before");
  const after = of("after");
  return {
    phases,
    minMiB: mib(Math.min(...all)),
    maxMiB: mib(Math.max(...all)),
    // The last sample after the pages closed against the last one before any page opened.
    growthMiB: round(mib(after.at(-1) ?? NaN) - mib(before.at(-1) ?? NaN), 1),
    peakOverBeforeMiB: round(mib(Math.max(...all)) - mib(before.at(-1) ?? NaN), 1),
    series: samples.map((s) => mib(s.kib)),
  };
}

/** Under 1 % of a core or not, and whether the difference is within the windows' spread. */
function verdict(o: ReturnType<typeof cpuOverhead>[number]): string {
  const noise = Math.max(o.spreadOff || 0, o.spreadOn || 0);
  const within = Math.abs(o.diffCores) <= noise ? " (within the spread: noise)" : "";
  return (o.percentOfCore < 1 ? "yes" : "**no**") + within;
}

async function printReport(): Promise<void> {
  const head = await headCommit(ROOT);
  const mem = Math.round(Deno.systemMemoryInfo().total / 1024 ** 3);
  const f = (n: number, d = 3) => Number.isFinite(n) ? n.toFixed(d) : "–";
  const out: string[] = [];
  out.push("| machine | load average before → after | command | commit |");
  out.push("| --- | --- | --- | --- |");
  out.push(
    `| ${navigator.hardwareConcurrency} CPUs, ${mem} GiB, Linux ${Deno.osRelease()}, Deno ${Deno.version.deno}, Kafka ${state?.kafkaVersion} | ${
      loadBefore.map((l) => l.toFixed(2)).join(" ")
    } → ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")} | \`${COMMAND}\` | ${head} |`,
  );
  out.push("");
  const overhead = results.overhead as ReturnType<typeof cpuOverhead> | undefined;
  if (overhead) {
    out.push(
      `Console overhead: ${WINDOWS} windows of ${SECONDS} s, off/on alternating, ${RATE} events/s, console polling every 1 s with ${PAGES} pages open.`,
    );
    out.push("");
    out.push(
      "| process | cores, console off | cores, console on | on − off | in % of one core | spread between off windows / on windows | under 1 %? |",
    );
    out.push("| --- | --- | --- | --- | --- | --- | --- |");
    for (const o of overhead) {
      out.push(
        `| ${o.process} | ${f(o.offCores)} | ${f(o.onCores)} | ${f(o.diffCores, 4)} | ${
          f(o.percentOfCore, 2)
        } % | ${f(o.spreadOff)} / ${f(o.spreadOn)} | ${verdict(o)} |`,
      );
    }
    const on = results.consoleOn as { cores: number; rssMaxMiB: number }[];
    out.push(
      `| console itself | – | ${on.map((c) => f(c.cores)).join(", ")} | | | | peak RSS ${
        on.map((c) => c.rssMaxMiB).join(", ")
      } MiB |`,
    );
    out.push("");
    out.push(
      "| window | console | accepted events/s | rows written/s | cores broker / ingest / worker |",
    );
    out.push("| --- | --- | --- | --- | --- |");
    for (const [i, w] of (results.windows as Record<string, number | string>[]).entries()) {
      out.push(
        `| ${
          i + 1
        } | ${w.mode} | ${w.acceptedPerS} | ${w.rowsPerS} | ${w.broker} / ${w.ingest} / ${w.worker} |`,
      );
    }
  }
  const listeners = results.listeners as Record<string, unknown>[] | undefined;
  if (listeners) {
    out.push("");
    out.push(
      "| pages open | console → broker: TCP data segments/s (≈ requests/s) | per snapshot | bytes/s | connections | snapshots per page /s | distinct snapshots, all pages (10 s) |",
    );
    out.push("| --- | --- | --- | --- | --- | --- | --- |");
    for (const l of listeners) {
      out.push(
        `| ${l.pages} | ${l.kafkaSegmentsPerS} | ${l.kafkaSegmentsPerSnapshot} | ${l.kafkaBytesPerS} | ${l.kafkaConnections} | ${l.snapshotsPerPagePerS} | ${l.distinctSnapshots} (each page ${l.snapshotsPerPage}) |`,
      );
    }
  }
  const lookup = results.lookup as Record<string, unknown> | undefined;
  if (lookup) {
    out.push("");
    out.push(
      "| look-up of a written user (`GET /api/find?user_id=`) | p50 ms | p99 ms | max ms | history records scanned (p50, max) | paths | ceiling: bare `select … where id = $1`, p50 / p99 ms | under 1 s? |",
    );
    out.push("| --- | --- | --- | --- | --- | --- | --- | --- |");
    out.push(
      `| ${LOOKUPS} users, ${
        Number(lookup.tableRows).toLocaleString("en-US")
      } rows in the table, ${PAGES} pages open | ${lookup.p50Ms} | ${lookup.p99Ms} | ${lookup.maxMs} | ${lookup.recordsScannedP50}, ${lookup.recordsScannedMax} | ${
        JSON.stringify(lookup.paths)
      } | ${lookup.bareP50Ms} / ${lookup.bareP99Ms} | ${
        Number(lookup.p99Ms) < 1000 ? "yes" : "**no**"
      } |`,
    );
  }
  const scans = results.scans as Record<string, unknown>[] | undefined;
  if (scans?.length) {
    out.push("");
    out.push("| long scan (find by an unknown event id) | ms | records read | stopped by |");
    out.push("| --- | --- | --- | --- |");
    for (const [i, s] of scans.entries()) {
      out.push(`| ${i + 1} | ${s.ms} | ${s.records} | ${s.stoppedBy} |`);
    }
  }
  const memory = results.memory as
    | { phases: Record<string, { minMiB: number; maxMiB: number; samples: number }> }
      & Record<
        string,
        unknown
      >
    | undefined;
  if (memory) {
    out.push("");
    out.push("| console RSS, sampled every second | samples | min MiB | max MiB |");
    out.push("| --- | --- | --- | --- |");
    for (const [p, m] of Object.entries(memory.phases)) {
      out.push(`| ${p} | ${m.samples} | ${m.minMiB} | ${m.maxMiB} |`);
    }
    out.push(
      `| whole run: growth (last after − last before); peak over before | | ${memory.growthMiB} | ${memory.peakOverBeforeMiB} |`,
    );
  }
  const rounds = results.rounds as
    | (ContenderRounds & {
      idleAfterMiB: number;
      lookup: ReturnType<typeof spread>;
      scan: ReturnType<typeof spread>;
    })[]
    | undefined;
  if (rounds?.length) {
    out.push("");
    out.push(
      `Memory through ${ROUNDS} rounds of ${LOOKUPS} look-ups and ${SCANS} long scans, ${PAGES} pages open on each console; RSS after the round (peak during it), MiB; V8 heap: largest size / smallest use after a search, MiB:`,
    );
    out.push("");
    out.push(`| round | ${rounds.map((r) => r.label).join(" | ")} |`);
    out.push(`| --- | ${rounds.map(() => "---").join(" | ")} |`);
    out.push(`| pages open, before | ${rounds.map((r) => r.beforeMiB).join(" | ")} |`);
    for (let i = 0; i < ROUNDS; i++) {
      const cells = rounds.map((r) => {
        const heap = r.heapTotalMiB[i] === null || r.heapTotalMiB[i] === undefined
          ? ""
          : `; heap ${r.heapTotalMiB[i]} / ${r.heapUsedMiB[i]}`;
        return `${r.afterRoundMiB[i]} (${r.peakRoundMiB[i]})${heap}`;
      });
      out.push(`| ${i + 1} | ${cells.join(" | ")} |`);
    }
    out.push(`| 15 s after the pages closed | ${rounds.map((r) => r.idleAfterMiB).join(" | ")} |`);
    out.push("");
    out.push(
      "| console | look-ups p50 / p99 ms | long scans p50 / max ms | CPU s over its rounds | failed requests | RSS: round 1 → last, highest peak MiB |",
    );
    out.push("| --- | --- | --- | --- | --- | --- |");
    for (const r of rounds) {
      out.push(
        `| ${r.label} | ${r.lookup.p50} / ${r.lookup.p99} | ${r.scan.p50} / ${r.scan.max} | ${
          round(r.cpuSeconds, 1)
        } | ${r.failed} | ${r.afterRoundMiB[0]} → ${r.afterRoundMiB.at(-1)}, ${
          Math.max(...r.peakRoundMiB)
        } |`,
      );
    }
  }
  out.push("");
  out.push(`Total ${results.totalSeconds} s; ${ROWS} rows generated in ${results.fillSeconds} s.`);
  console.log(out.join("\n"));
  console.log(JSON.stringify(results));
}
