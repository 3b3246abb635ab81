// deno-lint-ignore-file no-console -- a command-line tool: its output is for the terminal
/**
 * `deno task bench:ingest`: the webhook's throughput, latency and CPU per event on the shared
 * local stack, optionally beside the ingest of an older revision (`--baseline REV`).
 *
 * For each scenario it starts the `ingest` task as its own process, runs the load generator
 * (`load/main.ts`) as a second process, samples the ingest's RSS with `ps` and the CPU time of
 * ingest, generator and broker from `/proc` over the measured window (after warm-up), and stops
 * the ingest with SIGTERM. With `--baseline REV` the same scenario runs right after (or before:
 * the order alternates) against the `ingest` task of REV, checked out with `git worktree` in a
 * temporary folder, with the same environment, topic and load; the table prints both and the
 * ratios.
 *
 * Scenarios: single-event requests and batches of 100 as fast as the ingest answers, each also
 * unbatched (`INGEST_BATCH_MAX_MESSAGES=1`, `INGEST_LINGER_MS=0`: one awaited send per
 * message), and `batch100-rate`: batches of 100 at a fixed event rate, where both programs do
 * the same work and the ingest's CPU time per event compares them; `batch100-rate-thread` is
 * the same with `INGEST_PRODUCER_WORKER=true`, which runs the producer in a Web Worker: that
 * thread's CPU time (`/proc/PID/task`, thread `worker-1`) is the producer's own cost per event.
 * `INGEST_*` variables in the bench's environment reach every ingest (for tuning), and so do
 * `OTEL_*` ones (`OTEL_DENO=true` … measures the ingest with traces on).
 *
 * Ceilings, in the same run with the same generator (`bench/ingest_ceiling_server.ts`):
 * `ceiling-bare` (`Deno.serve` reads the body, answers 202), `ceiling-parse` (+ UTF-8,
 * `JSON.parse`, the shared zod schema), `ceiling-verify` (+ the signature check), each with
 * single events, `ceiling-verify-batch100` with batches of 100, and `kafka-alone`
 * (`bench/ingest_kafka_alone.ts`: the Kafka client producing the same records, nothing else).
 * Every scenario prints its ratio to its ceiling: `single` and `single-c16` to
 * `ceiling-verify`, `batch100` to `kafka-alone` (and to `ceiling-verify-batch100`), RSS to the
 * bare server's. `single-2proc` runs two ingest processes on one port (`INGEST_REUSE_PORT`);
 * `wrk-single` drives the ingest with `wrk` and pre-signed requests (`bench/ingest_wrk.ts`),
 * a generator nobody here wrote, against `wrk-ceiling-verify` (the parse-validate-verify
 * server under `wrk`); `wrk-single-2proc` is two processes under `wrk`, and `batch100-thread`
 * batches with the producer on its own thread (`INGEST_PRODUCER_WORKER`). Ceilings and the
 * `*-2proc` and `wrk-*` scenarios run on this checkout only. `app-no-kafka` (`bench/ingest_app_server.ts`) is the whole HTTP app with a
 * producer that resolves at once: the request path's cost before Kafka.
 *
 * The report leads with CPU per event against the ceilings' (steady from run to run), then
 * events/s against theirs: on two shared cores that share moves with how the cores are split
 * with the load generator. Each scenario says which bound its rate hit (`rate_bound.ts`): the
 * server's main thread (`/proc/PID/task/PID`) at 80 % of a core or more, the generator's, the
 * machine's cores, or else the answers' latency (connections × batch / p50).
 * `--profile DIR` writes a V8 CPU profile of every process of a scenario (`--cpu-prof-dir`).
 *
 * ```sh
 * deno task bench:ingest [--duration 12] [--warmup 3] [--concurrency-single 64]
 *   [--concurrency-batch 16] [--rate 5000] [--baseline REV] [--profile DIR]
 *   [--only single,single-c16,batch100,ceiling-verify,kafka-alone,...]
 * ```
 */
import { parseArgs } from "node:util";
import type { LoadSummary } from "../load/run_load.ts";
import { sharedStack, uniqueName } from "../stack/harness.ts";
import { taskArgs } from "../stack/programs.ts";
import { readState } from "../stack/stack.ts";
import { testKafka } from "../testing/kafka.ts";
import { complaints, type LogLine, type RunningProgram, startProgram } from "../testing/program.ts";
import { CEILING_MODES, type CeilingMode } from "./ingest_ceiling_server.ts";
import {
  cpuSeconds,
  machineBusySeconds,
  mainThreadCpuSeconds,
  sampleProcess,
  threadCpuSeconds,
} from "./ingest_sampler.ts";
import { haveWrk, runWrk, writeWrkScript } from "./ingest_wrk.ts";
import { type RateBound, rateBound } from "./rate_bound.ts";
import { checkoutRevision, headCommit, type RevisionTree } from "./revision_tree.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "12" },
    warmup: { type: "string", default: "3" },
    "concurrency-single": { type: "string", default: "64" },
    "concurrency-batch": { type: "string", default: "16" },
    rate: { type: "string", default: "5000" },
    only: { type: "string", default: "" },
    baseline: { type: "string" },
    profile: { type: "string" },
  },
});
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const concurrencySingle = Number(values["concurrency-single"]);
const concurrencyBatch = Number(values["concurrency-batch"]);
const fixedRate = Number(values.rate);
for (const [name, n] of Object.entries({ duration, warmup, fixedRate })) {
  if (!Number.isFinite(n) || n < 0 || n > 1_000_000) throw new Error(`Cannot parse --${name}`);
}

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/**
 * `--profile DIR`: every process of a scenario writes a V8 CPU profile and its Markdown summary
 * when it exits (`deno run --cpu-prof-dir --cpu-prof-md`), into `DIR/<scenario>/<ingest|ingest-old|load|...>/`. The
 * profiler costs CPU: a profiled run's numbers are for the profile, not for the tables.
 */
const profileRoot = values.profile
  // `deno task` runs in the project's folder; INIT_CWD is where it was typed.
  ? new URL(values.profile, `file://${Deno.env.get("INIT_CWD") ?? Deno.cwd()}/`).pathname
  : undefined;
const profileDir = (scenario: Scenario, role: string): string | undefined =>
  profileRoot ? `${profileRoot}/${scenario.name}/${role}` : undefined;
const profileFlags = (scenario: Scenario, role: string): string[] => {
  const dir = profileDir(scenario, role);
  return dir ? [`--cpu-prof-dir=${dir}`, "--cpu-prof-md"] : [];
};
const SECRET = "whsec_" + btoa(crypto.randomUUID());
const UNBATCHED = { INGEST_BATCH_MAX_MESSAGES: "1", INGEST_LINGER_MS: "0" };
/**
 * BENCH_V8_FLAGS replaces the `--v8-flags` of every ingest and ceiling server ("" drops them),
 * to choose heap flags by CPU and RSS together.
 */
const v8Override = Deno.env.get("BENCH_V8_FLAGS");
/** INGEST_* and OTEL_* from the bench's environment reach every ingest (tuning, traces). */
const tuning = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([k]) =>
    k.startsWith("INGEST_") || k.startsWith("OTEL_")
  ),
);

interface Scenario {
  name: string;
  batch: number;
  concurrency: number;
  /** Events per second offered; 0: as fast as the ingest answers. */
  rate: number;
  ingestEnv: Record<string, string>;
  /** What answers: the ingest (default), a ceiling server, or the Kafka client alone. */
  server?: "ingest" | CeilingMode | "kafka-alone" | "app";
  /** Ingest processes sharing the port (default 1). */
  processes?: number;
  /** The load generator (default ours). */
  generator?: "ours" | "wrk";
  /** The scenarios whose events/s are this one's ceilings. */
  ceilings?: string[];
  /** Runs on this checkout only (ceilings, and what the baseline cannot do). */
  currentOnly?: boolean;
}
const ceiling = (mode: CeilingMode, batch: number, concurrency: number): Scenario => ({
  name: `ceiling-${mode}${batch > 1 ? `-batch${batch}` : ""}`,
  batch,
  concurrency,
  rate: 0,
  ingestEnv: {},
  server: mode,
  currentOnly: true,
});
const SINGLE_CEILINGS = ["ceiling-verify", "ceiling-parse", "ceiling-bare"];
const allScenarios: Scenario[] = [
  ...CEILING_MODES.map((m) => ceiling(m, 1, concurrencySingle)),
  ceiling("verify", 100, concurrencyBatch),
  {
    name: "app-no-kafka",
    batch: 1,
    concurrency: concurrencySingle,
    rate: 0,
    ingestEnv: {},
    server: "app",
    ceilings: SINGLE_CEILINGS,
    currentOnly: true,
  },
  {
    name: "kafka-alone",
    batch: 100,
    concurrency: 1,
    rate: 0,
    ingestEnv: {},
    server: "kafka-alone",
    currentOnly: true,
  },
  {
    name: "single",
    batch: 1,
    concurrency: concurrencySingle,
    rate: 0,
    ingestEnv: {},
    ceilings: SINGLE_CEILINGS,
  },
  {
    name: "single-c16",
    batch: 1,
    concurrency: 16,
    rate: 0,
    ingestEnv: {},
    ceilings: SINGLE_CEILINGS,
  },
  {
    name: "single-unbatched",
    batch: 1,
    concurrency: concurrencySingle,
    rate: 0,
    ingestEnv: UNBATCHED,
  },
  {
    name: "batch100",
    batch: 100,
    concurrency: concurrencyBatch,
    rate: 0,
    ingestEnv: {},
    ceilings: ["kafka-alone", "ceiling-verify-batch100"],
  },
  {
    name: "batch100-unbatched",
    batch: 100,
    concurrency: concurrencyBatch,
    rate: 0,
    ingestEnv: UNBATCHED,
  },
  {
    name: "batch100-rate",
    batch: 100,
    concurrency: concurrencyBatch,
    rate: fixedRate,
    ingestEnv: {},
  },
  {
    name: "batch100-rate-thread",
    batch: 100,
    concurrency: concurrencyBatch,
    rate: fixedRate,
    ingestEnv: { INGEST_PRODUCER_WORKER: "true" },
  },
  {
    name: "single-2proc",
    batch: 1,
    concurrency: concurrencySingle,
    rate: 0,
    ingestEnv: {},
    processes: 2,
    ceilings: ["single", ...SINGLE_CEILINGS],
    currentOnly: true,
  },
  {
    name: "batch100-thread",
    batch: 100,
    concurrency: concurrencyBatch,
    rate: 0,
    ingestEnv: { INGEST_PRODUCER_WORKER: "true" },
    ceilings: ["kafka-alone", "ceiling-verify-batch100"],
  },
  {
    name: "wrk-ceiling-verify",
    batch: 1,
    concurrency: concurrencySingle,
    rate: 0,
    ingestEnv: {},
    server: "verify",
    generator: "wrk",
    currentOnly: true,
  },
  {
    name: "wrk-single-2proc",
    batch: 1,
    concurrency: concurrencySingle,
    rate: 0,
    ingestEnv: { INGEST_REPLAY_CACHE_SIZE: "0" },
    processes: 2,
    generator: "wrk",
    ceilings: ["wrk-single", "wrk-ceiling-verify"],
    currentOnly: true,
  },
  {
    name: "wrk-single",
    batch: 1,
    concurrency: concurrencySingle,
    rate: 0,
    ingestEnv: { INGEST_REPLAY_CACHE_SIZE: "0" },
    generator: "wrk",
    ceilings: ["wrk-ceiling-verify", "single", ...SINGLE_CEILINGS],
    currentOnly: true,
  },
];
const scenarios = allScenarios.filter((s) =>
  !values.only || values.only.split(",").includes(s.name)
);

/** The programs measured: this checkout, and REV's with --baseline. */
interface Program {
  label: string;
  root: string;
}

interface Result {
  scenario: Scenario;
  program: Program;
  load: LoadSummary;
  rssMiB: number;
  /**
   * CPU cores used on average in the measured window, by process (producer: its thread), and
   * by the whole machine (every process, other runs' too).
   */
  cores: { ingest: number; producer: number; load: number; kafka: number; machine: number };
  /**
   * Cores used by the main thread of the ingest (the busiest, with several processes) and of
   * the load generator (NaN: not sampled, as for `wrk`): a main thread near 1 caps the rate.
   */
  mainCores: { ingest: number; load: number };
  /** Which bound the rate hit (`bench/rate_bound.ts`). */
  bound: RateBound;
  /** The ingest's CPU time (user + system) per acknowledged event, in µs. */
  ingestUsPerEvent: number;
  /** The producer thread's CPU time per event, in µs (NaN without INGEST_PRODUCER_WORKER). */
  producerUsPerEvent: number;
  /** CPU cores the idle ingest (and its producer thread) used before the load started. */
  idleCores: { ingest: number; producer: number };
  /** The same per event, less what the idle ingest would have used in that time. */
  ingestNetUsPerEvent: number;
  producerNetUsPerEvent: number;
  /** Warnings and errors the ingest logged. */
  complaints: number;
}

const env = await sharedStack();
const kafka = await testKafka(env.KAFKA_BROKERS);
const topic = uniqueName("bench_ingest");
const brokerPid = (await readState("local"))?.kafka[0]?.pid;
const head = await headCommit(ROOT);
const current: Program = { label: `new (${head}+working tree)`, root: ROOT };
let tree: RevisionTree | undefined;
const results: Result[] = [];
const loadBefore = Deno.loadavg();
const wrkAvailable = await haveWrk();
let wrkScript: string | undefined;
try {
  await kafka.createTopics([topic], 6);
  const programs = [current];
  if (values.baseline) {
    tree = await checkoutRevision(ROOT, values.baseline);
    console.error(`== baseline ${tree.commit} "${tree.subject}" checked out in ${tree.dir}`);
    programs.push({ label: `old (${tree.commit})`, root: tree.dir });
  }
  for (const [i, scenario] of scenarios.entries()) {
    if (scenario.generator === "wrk" && !wrkAvailable) {
      console.error(`== ${scenario.name} skipped: no wrk on the PATH (apt-get install wrk)`);
      continue;
    }
    // Alternate the order, so that neither program always runs on a warmer (or busier) machine.
    const order = scenario.currentOnly ? [current] : i % 2 === 0 ? programs : programs.toReversed();
    for (const program of order) {
      console.error(
        `== ${scenario.name} on ${program.label}: ${duration} s after ${warmup} s warm-up, ` +
          `concurrency ${scenario.concurrency}, rate ${scenario.rate || "max"}`,
      );
      const result = await runOne(scenario, program).catch((err: Error) => {
        // One program that cannot start must not cost the other one's numbers.
        console.error(`== ${scenario.name} on ${program.label} failed: ${err.message}`);
        return undefined;
      });
      if (!result) continue;
      results.push(result);
      console.error(JSON.stringify({
        ...result.load,
        rssMiB: result.rssMiB,
        cores: result.cores,
        ingestUsPerEvent: result.ingestUsPerEvent,
        producerUsPerEvent: result.producerUsPerEvent,
      }));
    }
  }
} finally {
  await kafka.admin.deleteTopics([topic]).catch(() => {});
  await kafka.close();
  await tree?.remove();
  if (wrkScript) await Deno.remove(wrkScript.replace(/\/[^/]+$/, ""), { recursive: true });
}
printReport(results);

/** What answers the load: one or more processes on one port. */
interface Servers {
  pids: number[];
  port: number;
  logs(): LogLine[];
  stop(): Promise<void>;
}

async function runOne(scenario: Scenario, program: Program): Promise<Result> {
  if (scenario.server === "kafka-alone") return await runKafkaAlone(scenario, program);
  const servers = await startServers(scenario, program);
  const samplers = servers.pids.map((pid) => sampleProcess(pid, 500));
  try {
    const idleCores = await idle(servers.pids);
    const measured = await measure(scenario, servers.port, servers.pids);
    const events = measured.load.eventsPerSecond;
    const perEvent = (cores: number) => events > 0 ? round((cores / events) * 1e6, 1) : NaN;
    return {
      scenario,
      program,
      ...measured,
      // Several processes: the sum of their peaks (an upper bound of the peak of the sum).
      rssMiB: round(samplers.reduce((sum, s) => sum + s.maxRssMiB(), 0), 1),
      bound: boundOf(scenario, measured),
      ingestUsPerEvent: perEvent(measured.cores.ingest),
      producerUsPerEvent: perEvent(measured.cores.producer),
      idleCores,
      ingestNetUsPerEvent: perEvent(measured.cores.ingest - idleCores.ingest),
      producerNetUsPerEvent: perEvent(measured.cores.producer - idleCores.producer),
      complaints: complaints(servers.logs()).length,
    };
  } finally {
    for (const s of samplers) s.stop();
    await servers.stop();
    for (const line of complaints(servers.logs()).slice(0, 5)) {
      console.error(`  server logged: ${JSON.stringify(line)}`);
    }
  }
}

/** The ingest (N processes on one port with `processes`), or a ceiling server. */
async function startServers(scenario: Scenario, program: Program): Promise<Servers> {
  const profile = profileFlags(scenario, "server");
  if (scenario.server === "app") {
    return await startCeiling("bench/ingest_app_server.ts", [], profile);
  }
  if (scenario.server && scenario.server !== "ingest") {
    const args = [`--mode=${scenario.server}`];
    return await startCeiling("bench/ingest_ceiling_server.ts", args, profile);
  }
  const processes = scenario.processes ?? 1;
  // Several processes share one port (SO_REUSEPORT): choose it first.
  const port = processes > 1 ? freePort() : 0;
  const started: RunningProgram[] = [];
  const stopAll = async () => {
    for (const ingest of started) {
      const status = await ingest.stop("SIGTERM");
      if (status.code !== 0) console.error(`ingest exited with ${status.code}`);
    }
  };
  try {
    for (let n = 0; n < processes; n++) {
      started.push(
        await startProgram("ingest", {
          KAFKA_BROKERS: env.KAFKA_BROKERS,
          KAFKA_TOPIC: topic,
          INGEST_HOST: "127.0.0.1",
          INGEST_PORT: String(port),
          ...(processes > 1 ? { INGEST_REUSE_PORT: "true" } : {}),
          WEBHOOK_SECRET: SECRET,
          PULL_ENABLED: "false",
          LOG_LEVEL: "info",
          ...tuning,
          ...scenario.ingestEnv,
        }, {
          root: program.root,
          v8Flags: v8Override,
          cpuProfileDir: profileDir(scenario, program === current ? "ingest" : "ingest-old"),
        }),
      );
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    pids: started.map((s) => s.pid),
    port: started[0]!.port,
    logs: () => started.flatMap((s) => s.logs),
    stop: stopAll,
  };
}

/** A ceiling server (or the app without Kafka), with this checkout's ingest V8 flags. */
async function startCeiling(entry: string, args: string[], profile: string[]): Promise<Servers> {
  const mode = entry;
  const v8Flags = v8Override !== undefined
    ? [v8Override].filter(Boolean)
    : taskArgs("ingest", ROOT).filter((a) => a.startsWith("--v8-flags"));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...v8Flags,
      ...profile,
      "--allow-net=127.0.0.1",
      "--allow-env=WEBHOOK_SECRET",
      entry,
      ...args,
    ],
    cwd: ROOT,
    env: { WEBHOOK_SECRET: SECRET },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logs: LogLine[] = [];
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  const deadline = Date.now() + 30_000;
  while (!logs.some((l) => l.msg === "listening")) {
    if (Date.now() > deadline) throw new Error(`ceiling ${mode} did not listen in 30 s`);
    const { value, done } = await lines.read();
    if (done) throw new Error(`ceiling ${mode} exited: ${rest}`);
    rest += value;
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const text = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      try {
        logs.push(JSON.parse(text));
      } catch {
        logs.push({ msg: "(raw)", raw: text });
      }
    }
  }
  const draining = (async () => {
    for (;;) if ((await lines.read()).done) return;
  })();
  return {
    pids: [child.pid],
    port: Number(logs.find((l) => l.msg === "listening")!.port),
    logs: () => logs,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await draining;
    },
  };
}

/** The Kafka client alone producing the records batches of 100 would (one process). */
async function runKafkaAlone(scenario: Scenario, program: Program): Promise<Result> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...profileFlags(scenario, "kafka-alone"),
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "bench/ingest_kafka_alone.ts",
      `--topic=${topic}`,
      `--duration=${duration}`,
      `--warmup=${warmup}`,
    ],
    cwd: ROOT,
    env: { KAFKA_BROKERS: env.KAFKA_BROKERS },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const sampler = sampleProcess(child.pid, 500);
  const cpu = (pid: number | undefined) =>
    pid === undefined ? Promise.resolve(Number.NaN) : cpuSeconds(pid).catch(() => Number.NaN);
  const at = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Encoding the records and connecting take a moment: the warm-up starts after them, roughly.
  await at((warmup + 2) * 1000);
  const t1 = performance.now();
  const main = () => mainThreadCpuSeconds(child.pid).catch(() => Number.NaN);
  const machine = () => machineBusySeconds().catch(() => Number.NaN);
  const before = await Promise.all([cpu(child.pid), cpu(brokerPid), main(), machine()]);
  // Sample again well before its own clock ends it (its start is not seen from here).
  await at(Math.max(1000, (duration - 3) * 1000));
  const after = await Promise.all([cpu(child.pid), cpu(brokerPid), main(), machine()]);
  const seconds = (performance.now() - t1) / 1000;
  sampler.stop();
  const output = await child.output();
  const text = new TextDecoder().decode(output.stdout).trim();
  const r: { events: number; seconds: number; eventsPerSecond: number } = JSON.parse(
    text.split("\n").pop()!,
  );
  const cores = (i: number) => round((after[i]! - before[i]!) / seconds, 3);
  const nan = Number.NaN;
  const producer = cores(0);
  const load: LoadSummary = {
    requests: 0,
    events: r.events,
    accepted: r.events,
    seconds: r.seconds,
    eventsPerSecond: r.eventsPerSecond,
    requestsPerSecond: 0,
    latencyMs: { p50: nan, p90: nan, p99: nan, max: nan },
    statuses: { acknowledged: r.events },
    bodyBytes: 0,
  };
  const mainCores = { ingest: cores(2), load: nan };
  const measured = {
    load,
    cores: { ingest: producer, producer: nan, load: 0, kafka: cores(1), machine: cores(3) },
  };
  return {
    scenario,
    program,
    ...measured,
    mainCores,
    bound: boundOf(scenario, { ...measured, mainCores }),
    rssMiB: sampler.maxRssMiB(),
    ingestUsPerEvent: round((producer / r.eventsPerSecond) * 1e6, 1),
    producerUsPerEvent: nan,
    idleCores: { ingest: 0, producer: nan },
    ingestNetUsPerEvent: round((producer / r.eventsPerSecond) * 1e6, 1),
    producerNetUsPerEvent: nan,
    complaints: 0,
  };
}

/** CPU cores of the idle servers (and producer threads): 3 s, after 2 s to settle. */
async function idle(pids: number[]): Promise<Result["idleCores"]> {
  const sample = () =>
    Promise.all([
      sumOver(pids, (pid) => cpuSeconds(pid)),
      sumOver(pids, (pid) => threadCpuSeconds(pid, "worker-")),
    ]);
  await new Promise((r) => setTimeout(r, 2_000));
  const t0 = performance.now();
  const before = await sample();
  await new Promise((r) => setTimeout(r, 3_000));
  const after = await sample();
  const seconds = (performance.now() - t0) / 1000;
  return {
    ingest: round((after[0] - before[0]) / seconds, 4),
    producer: round((after[1] - before[1]) / seconds, 4),
  };
}

async function sumOver(pids: number[], f: (pid: number) => Promise<number>): Promise<number> {
  const values = await Promise.all(pids.map((pid) => f(pid).catch(() => Number.NaN)));
  return values.reduce((a, b) => a + b, 0);
}

/** Runs the load and samples CPU time over the measured window (warm-up end to planned end). */
async function measure(
  scenario: Scenario,
  port: number,
  pids: number[],
): Promise<Measured> {
  if (scenario.generator === "wrk") return await measureWrk(scenario, port, pids);
  const child = loadProcess(port, scenario);
  const cpu = async (pid: number | undefined) =>
    pid === undefined ? Number.NaN : await cpuSeconds(pid).catch(() => Number.NaN);
  const thread = () => sumOver(pids, (pid) => threadCpuSeconds(pid, "worker-"));
  const mains = () =>
    Promise.all([...pids, child.pid].map((pid) => mainThreadCpuSeconds(pid).catch(() => NaN)));
  const machine = () => machineBusySeconds().catch(() => NaN);
  const sampleAll = () =>
    Promise.all([
      sumOver(pids, cpuSeconds),
      cpu(child.pid),
      cpu(brokerPid),
      thread(),
      machine(),
      mains(),
    ]);
  const at = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const t0 = performance.now();
  await at(warmup * 1000);
  const t1 = performance.now();
  const before = await sampleAll();
  // Stop sampling just before the generator ends: sample at the planned end.
  await at(Math.max(0, (duration + warmup) * 1000 - 300 - (performance.now() - t0)));
  const after = await sampleAll();
  const seconds = (performance.now() - t1) / 1000;
  const output = await child.output();
  const text = new TextDecoder().decode(output.stdout).trim();
  const load: LoadSummary = JSON.parse(text.split("\n").pop()!);
  const cores = (i: 0 | 1 | 2 | 3 | 4) => round((after[i] - before[i]) / seconds, 3);
  const main = after[5].map((t, i) => round((t - before[5][i]!) / seconds, 3));
  return {
    load,
    cores: {
      ingest: cores(0),
      load: cores(1),
      kafka: cores(2),
      producer: cores(3),
      machine: cores(4),
    },
    // The busiest ingest's main thread, and the generator's (the last pid).
    mainCores: { ingest: Math.max(...main.slice(0, -1)), load: main.at(-1)! },
  };
}

/** `wrk` with pre-signed requests: a warm-up run, then the measured one. */
async function measureWrk(
  scenario: Scenario,
  port: number,
  pids: number[],
): Promise<Measured> {
  wrkScript ??= await writeWrkScript(SECRET, 4000, scenario.batch);
  const url = `http://127.0.0.1:${port}/v1/users`;
  const opts = { connections: scenario.concurrency, threads: 2 };
  await runWrk(url, wrkScript, { ...opts, seconds: warmup });
  const cpu = async (pid: number | undefined) =>
    pid === undefined ? Number.NaN : await cpuSeconds(pid).catch(() => Number.NaN);
  const mains = () => Promise.all(pids.map((pid) => mainThreadCpuSeconds(pid).catch(() => NaN)));
  const t1 = performance.now();
  const machine = () => machineBusySeconds().catch(() => NaN);
  const sample = () => Promise.all([sumOver(pids, cpuSeconds), cpu(brokerPid), machine(), mains()]);
  const before = await sample();
  const wrk = await runWrk(url, wrkScript, { ...opts, seconds: duration });
  const after = await sample();
  const seconds = (performance.now() - t1) / 1000;
  const cores = (i: 0 | 1 | 2) => round((after[i] - before[i]) / seconds, 3);
  const main = after[3].map((t, i) => round((t - before[3][i]!) / seconds, 3));
  const ok = wrk.requests - wrk.failed;
  return {
    load: {
      requests: wrk.requests,
      events: wrk.requests * scenario.batch,
      accepted: ok * scenario.batch,
      seconds: wrk.seconds,
      eventsPerSecond: Math.round((ok * scenario.batch) / wrk.seconds),
      requestsPerSecond: wrk.requestsPerSecond,
      latencyMs: wrk.latencyMs,
      statuses: { "2xx": ok, other: wrk.failed },
      bodyBytes: 0,
    },
    // wrk's own CPU is not sampled (it is not a Deno child); NaN says so.
    cores: {
      ingest: cores(0),
      load: Number.NaN,
      kafka: cores(1),
      producer: Number.NaN,
      machine: cores(2),
    },
    mainCores: { ingest: Math.max(...main), load: Number.NaN },
  };
}

/** What the load and the samplers measured over a scenario's window. */
type Measured = Pick<Result, "load" | "cores" | "mainCores">;

/** The bound a scenario's rate hit, from what was measured (`bench/rate_bound.ts`). */
function boundOf(scenario: Scenario, m: Measured): RateBound {
  return rateBound({
    eventsPerSecond: m.load.eventsPerSecond,
    offeredEventsPerSecond: scenario.rate,
    connections: scenario.concurrency,
    batch: scenario.batch,
    p50Ms: m.load.latencyMs.p50,
    serverMainCores: m.mainCores.ingest,
    generatorMainCores: m.mainCores.load,
    machineCores: m.cores.machine,
    cpus: navigator.hardwareConcurrency,
  });
}

/** A loopback port free right now (several ingest processes then bind it together). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function loadProcess(port: number, scenario: Scenario): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...profileFlags(scenario, "load"),
      "--allow-net=127.0.0.1",
      "--allow-env=WEBHOOK_SECRET",
      "load/main.ts",
      `--url=http://127.0.0.1:${port}/v1/users`,
      `--rate=${scenario.rate}`,
      `--count=${100_000_000}`,
      `--duration=${duration + warmup}`,
      `--warmup=${warmup}`,
      `--batch=${scenario.batch}`,
      `--concurrency=${scenario.concurrency}`,
      "--json",
    ],
    cwd: ROOT,
    env: { WEBHOOK_SECRET: SECRET },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

function printReport(all: readonly Result[]): void {
  console.log(
    `Machine: ${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}; load average ` +
      `${loadBefore.map((l) => l.toFixed(2)).join(" ")} before, ` +
      `${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")} after (machine shared).`,
  );
  if (tree) console.log(`Baseline: ${tree.commit} "${tree.subject}"`);
  if (profileRoot) {
    console.log(`CPU profiles in ${profileRoot}/<scenario>/ (profiled: the numbers cost more).`);
  }
  printAgainstCeilings(all);
  console.log("");
  console.log(
    "| scenario | program | concurrency | offered ev/s | events/s | p50 ms | p99 ms | ingest RSS MiB | CPU cores ingest / load / kafka (idle ingest); machine | main thread cores ingest / load | ingest CPU µs/event (net of idle) | producer thread CPU µs/event (net of idle) | bound | answers | warn+error lines |",
  );
  console.log(
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const r of all) {
    console.log(
      `| ${r.scenario.name} | ${r.program.label} | ${r.scenario.concurrency} | ${
        r.scenario.rate || "max"
      } | ${r.load.eventsPerSecond} | ${dash(r.load.latencyMs.p50)} | ${
        dash(r.load.latencyMs.p99)
      } | ${r.rssMiB} | ${r.cores.ingest} / ${r.cores.load} / ${r.cores.kafka} (${r.idleCores.ingest}); ${r.cores.machine} | ${
        dash(r.mainCores.ingest)
      } / ${dash(r.mainCores.load)} | ${r.ingestUsPerEvent} (${r.ingestNetUsPerEvent}) | ${
        Number.isFinite(r.producerUsPerEvent)
          ? `${r.producerUsPerEvent} (${r.producerNetUsPerEvent})`
          : "–"
      } | ${r.bound.label} | ${
        Object.entries(r.load.statuses).map(([s, n]) => `${s}: ${n}`).join(", ")
      } | ${r.complaints} |`,
    );
  }
  if (!tree) return;
  console.log("");
  console.log(
    "| scenario | events/s new / old | p50 ms new / old | p99 ms new / old | ingest CPU µs/event old / new: gross, net of idle | producer thread CPU µs/event old / new: gross, net of idle |",
  );
  console.log("| --- | --- | --- | --- | --- | --- |");
  const ratios: Record<string, Record<string, number>> = {};
  for (const scenario of scenarios) {
    const mine = all.find((r) => r.scenario === scenario && r.program === current);
    const old = all.find((r) => r.scenario === scenario && r.program !== current);
    if (!mine || !old) continue;
    const ratio = (k: PerEvent) => round(old[k] / mine[k], 2);
    const pair = (gross: PerEvent, net: PerEvent) =>
      Number.isFinite(mine[gross])
        ? `${old[gross]} / ${mine[gross]} (${ratio(gross)}×), ${old[net]} / ${mine[net]} (${
          ratio(net)
        }×)`
        : "–";
    ratios[scenario.name] = {
      ingest: ratio("ingestUsPerEvent"),
      ingestNet: ratio("ingestNetUsPerEvent"),
      producer: ratio("producerUsPerEvent"),
      producerNet: ratio("producerNetUsPerEvent"),
    };
    console.log(
      `| ${scenario.name} | ${mine.load.eventsPerSecond} / ${old.load.eventsPerSecond} (${
        round(mine.load.eventsPerSecond / old.load.eventsPerSecond, 2)
      }×) | ${mine.load.latencyMs.p50} / ${old.load.latencyMs.p50} | ${mine.load.latencyMs.p99} / ${old.load.latencyMs.p99} | ${
        pair("ingestUsPerEvent", "ingestNetUsPerEvent")
      } | ${pair("producerUsPerEvent", "producerNetUsPerEvent")} |`,
    );
  }
  console.log("");
  console.log(JSON.stringify({
    baseline: tree.commit,
    cpuRatioOldOverNew: ratios,
    results: all.map((r) => ({
      scenario: r.scenario.name,
      program: r.program.label,
      eventsPerSecond: r.load.eventsPerSecond,
      p50: r.load.latencyMs.p50,
      p99: r.load.latencyMs.p99,
      rssMiB: r.rssMiB,
      cores: r.cores,
      mainCores: r.mainCores,
      bound: r.bound.kind,
      idleCores: r.idleCores,
      ingestUsPerEvent: r.ingestUsPerEvent,
      ingestNetUsPerEvent: r.ingestNetUsPerEvent,
      producerUsPerEvent: r.producerUsPerEvent,
      producerNetUsPerEvent: r.producerNetUsPerEvent,
      statuses: r.load.statuses,
    })),
  }));
}

/**
 * The table printed first: each scenario's CPU per event against its ceilings' (measured in
 * this run), which is steady from run to run, then its events/s against theirs, which is not
 * (on two shared cores it moves with how the cores are split with the load generator, whose
 * cores are beside it), the bound its rate hit, and its peak RSS against the bare server's.
 */
function printAgainstCeilings(all: readonly Result[]): void {
  const of = (name: string) => all.find((r) => r.scenario.name === name);
  const bare = of("ceiling-bare");
  const rows: string[] = [];
  for (const r of all) {
    for (const name of r.scenario.ceilings ?? []) {
      const c = all.find((x) => x.scenario.name === name && x.program === current) ?? of(name);
      if (!c) continue;
      rows.push(
        `| ${r.scenario.name} | ${r.program.label} | ${r.ingestUsPerEvent} | ${name} | ${c.ingestUsPerEvent} | **${
          round(r.ingestUsPerEvent / c.ingestUsPerEvent, 2)
        }×** | ${r.load.eventsPerSecond} / ${c.load.eventsPerSecond} = ${
          round(r.load.eventsPerSecond / c.load.eventsPerSecond, 2)
        } | ${dash(r.cores.load)} / ${dash(c.cores.load)} | ${r.bound.label} / ${c.bound.label} | ${
          bare && r.scenario.batch === 1 ? round(r.rssMiB / bare.rssMiB, 2) : "–"
        } |`,
      );
    }
  }
  if (rows.length === 0) return;
  console.log("");
  console.log(
    "| scenario | program | CPU µs/event | ceiling | ceiling's CPU µs/event | CPU per event vs ceiling | events/s vs ceiling's (share) ¹ | generator cores: scenario / ceiling | bound: scenario / ceiling | peak RSS / bare server's |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(row);
  console.log("");
  console.log(
    "¹ The share of the ceiling's events/s depends on how the machine's cores are split between " +
      "the server and the load generator (its cores beside it): compare CPU per event across runs.",
  );
}

/** A number, or a dash where there is none (the Kafka client alone has no latency). */
function dash(n: number): string {
  return Number.isFinite(n) ? String(n) : "–";
}

/** The per-event CPU figures of a result. */
type PerEvent =
  | "ingestUsPerEvent"
  | "ingestNetUsPerEvent"
  | "producerUsPerEvent"
  | "producerNetUsPerEvent";

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
