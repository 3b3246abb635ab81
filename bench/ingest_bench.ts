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
 * `INGEST_*` variables in the bench's environment reach every ingest (for tuning).
 *
 * ```sh
 * deno task bench:ingest [--duration 12] [--warmup 3] [--concurrency-single 64]
 *   [--concurrency-batch 16] [--rate 5000] [--baseline REV]
 *   [--only single,single-unbatched,batch100,batch100-unbatched,batch100-rate]
 * ```
 */
import { parseArgs } from "node:util";
import type { LoadSummary } from "../load/run_load.ts";
import { sharedStack, uniqueName } from "../stack/harness.ts";
import { readState } from "../stack/stack.ts";
import { testKafka } from "../testing/kafka.ts";
import { cpuSeconds, sampleProcess, threadCpuSeconds } from "./ingest_sampler.ts";
import { checkoutRevision, headCommit, type RevisionTree } from "./revision_tree.ts";
import { complaints, startTask } from "./start_task.ts";

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
const SECRET = "whsec_" + btoa(crypto.randomUUID());
const UNBATCHED = { INGEST_BATCH_MAX_MESSAGES: "1", INGEST_LINGER_MS: "0" };
/** INGEST_* from the bench's environment reach every ingest (for tuning). */
const tuning = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([k]) => k.startsWith("INGEST_")),
);

interface Scenario {
  name: string;
  batch: number;
  concurrency: number;
  /** Events per second offered; 0: as fast as the ingest answers. */
  rate: number;
  ingestEnv: Record<string, string>;
}
const allScenarios: Scenario[] = [
  { name: "single", batch: 1, concurrency: concurrencySingle, rate: 0, ingestEnv: {} },
  {
    name: "single-unbatched",
    batch: 1,
    concurrency: concurrencySingle,
    rate: 0,
    ingestEnv: UNBATCHED,
  },
  { name: "batch100", batch: 100, concurrency: concurrencyBatch, rate: 0, ingestEnv: {} },
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
  /** CPU cores used on average in the measured window, by process (producer: its thread). */
  cores: { ingest: number; producer: number; load: number; kafka: number };
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
try {
  await kafka.createTopics([topic], 6);
  const programs = [current];
  if (values.baseline) {
    tree = await checkoutRevision(ROOT, values.baseline);
    console.error(`== baseline ${tree.commit} "${tree.subject}" checked out in ${tree.dir}`);
    programs.push({ label: `old (${tree.commit})`, root: tree.dir });
  }
  for (const [i, scenario] of scenarios.entries()) {
    // Alternate the order, so that neither program always runs on a warmer (or busier) machine.
    for (const program of i % 2 === 0 ? programs : programs.toReversed()) {
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
}
printReport(results);

async function runOne(scenario: Scenario, program: Program): Promise<Result> {
  const ingest = await startTask(program.root, "ingest", {
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    KAFKA_TOPIC: topic,
    INGEST_HOST: "127.0.0.1",
    INGEST_PORT: "0",
    WEBHOOK_SECRET: SECRET,
    PULL_ENABLED: "false",
    LOG_LEVEL: "info",
    ...tuning,
    ...scenario.ingestEnv,
  });
  const sampler = sampleProcess(ingest.pid, 500);
  try {
    const idleCores = await idle(ingest.pid);
    const measured = await measure(scenario, ingest.port, ingest.pid);
    const events = measured.load.eventsPerSecond;
    const perEvent = (cores: number) => events > 0 ? round((cores / events) * 1e6, 1) : NaN;
    return {
      scenario,
      program,
      ...measured,
      rssMiB: sampler.maxRssMiB(),
      ingestUsPerEvent: perEvent(measured.cores.ingest),
      producerUsPerEvent: perEvent(measured.cores.producer),
      idleCores,
      ingestNetUsPerEvent: perEvent(measured.cores.ingest - idleCores.ingest),
      producerNetUsPerEvent: perEvent(measured.cores.producer - idleCores.producer),
      complaints: complaints(ingest.logs).length,
    };
  } finally {
    sampler.stop();
    const status = await ingest.stop("SIGTERM");
    if (status.code !== 0) console.error(`ingest exited with ${status.code}`);
    for (const line of complaints(ingest.logs).slice(0, 5)) {
      console.error(`  ingest logged: ${JSON.stringify(line)}`);
    }
  }
}

/** CPU cores of the idle ingest (and producer thread): 3 s, after 2 s to settle from its start. */
async function idle(pid: number): Promise<Result["idleCores"]> {
  const sample = () =>
    Promise.all([
      cpuSeconds(pid).catch(() => Number.NaN),
      threadCpuSeconds(pid, "worker-").catch(() => Number.NaN),
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

/** Runs the load and samples CPU time over the measured window (warm-up end to planned end). */
async function measure(
  scenario: Scenario,
  port: number,
  ingestPid: number,
): Promise<{ load: LoadSummary; cores: Result["cores"] }> {
  const child = loadProcess(port, scenario);
  const cpu = async (pid: number | undefined) =>
    pid === undefined ? Number.NaN : await cpuSeconds(pid).catch(() => Number.NaN);
  const thread = () => threadCpuSeconds(ingestPid, "worker-").catch(() => Number.NaN);
  const sampleAll = () => Promise.all([cpu(ingestPid), cpu(child.pid), cpu(brokerPid), thread()]);
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
  const cores = (i: number) => round((after[i]! - before[i]!) / seconds, 3);
  return {
    load,
    cores: { ingest: cores(0), load: cores(1), kafka: cores(2), producer: cores(3) },
  };
}

function loadProcess(port: number, scenario: Scenario): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
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
  console.log("");
  console.log(
    "| scenario | program | concurrency | offered ev/s | events/s | p50 ms | p99 ms | ingest RSS MiB | CPU cores ingest / load / kafka (idle ingest) | ingest CPU µs/event (net of idle) | producer thread CPU µs/event (net of idle) | answers | warn+error lines |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of all) {
    console.log(
      `| ${r.scenario.name} | ${r.program.label} | ${r.scenario.concurrency} | ${
        r.scenario.rate || "max"
      } | ${r.load.eventsPerSecond} | ${r.load.latencyMs.p50} | ${r.load.latencyMs.p99} | ${r.rssMiB} | ${r.cores.ingest} / ${r.cores.load} / ${r.cores.kafka} (${r.idleCores.ingest}) | ${r.ingestUsPerEvent} (${r.ingestNetUsPerEvent}) | ${
        Number.isFinite(r.producerUsPerEvent)
          ? `${r.producerUsPerEvent} (${r.producerNetUsPerEvent})`
          : "–"
      } | ${
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
      idleCores: r.idleCores,
      ingestUsPerEvent: r.ingestUsPerEvent,
      ingestNetUsPerEvent: r.ingestNetUsPerEvent,
      producerUsPerEvent: r.producerUsPerEvent,
      producerNetUsPerEvent: r.producerNetUsPerEvent,
      statuses: r.load.statuses,
    })),
  }));
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
