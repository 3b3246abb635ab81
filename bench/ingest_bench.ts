// deno-lint-ignore-file no-console -- a command-line tool: its output is for the terminal
/**
 * `deno task bench:ingest`: the webhook's throughput and latency on the shared local stack.
 *
 * For each scenario it starts `ingest/main.ts` as its own process (the `ingest` task's
 * flags), runs the load generator (`load/main.ts`) as a second process at a fixed
 * concurrency, samples the ingest's RSS with `ps`, and stops the ingest with SIGTERM.
 * Scenarios: single-event requests and batches of 100, each with the batcher and with the
 * baseline (`INGEST_BATCH_MAX_MESSAGES=1`, `INGEST_LINGER_MS=0`: one awaited kafkajs send
 * per message, as without a batcher). Every run is bounded by `--duration` (+ warm-up).
 *
 * ```sh
 * deno task bench:ingest [--duration 12] [--warmup 3] [--concurrency-single 64]
 *   [--concurrency-batch 16] [--only single,single-baseline,batch100,batch100-baseline]
 * ```
 */
import { parseArgs } from "node:util";
import { createKafka } from "../shared/kafka.ts";
import { silentLogger } from "../shared/logger.ts";
import { createTopicsAndWait, sharedStack, uniqueName } from "../stack/harness.ts";
import { spawnIngest } from "../ingest/spawn_ingest.ts";
import type { LoadSummary } from "../load/run_load.ts";
import { readState } from "../stack/stack.ts";
import { cpuSeconds, sampleProcess } from "./ingest_sampler.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "12" },
    warmup: { type: "string", default: "3" },
    "concurrency-single": { type: "string", default: "64" },
    "concurrency-batch": { type: "string", default: "16" },
    only: { type: "string", default: "" },
  },
});
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const concurrencySingle = Number(values["concurrency-single"]);
const concurrencyBatch = Number(values["concurrency-batch"]);

const SECRET = "whsec_" + btoa(crypto.randomUUID());
const BASELINE = { INGEST_BATCH_MAX_MESSAGES: "1", INGEST_LINGER_MS: "0" };

interface Scenario {
  name: string;
  batch: number;
  concurrency: number;
  ingestEnv: Record<string, string>;
}
const scenarios: Scenario[] = [
  { name: "single", batch: 1, concurrency: concurrencySingle, ingestEnv: {} },
  { name: "single-baseline", batch: 1, concurrency: concurrencySingle, ingestEnv: BASELINE },
  { name: "batch100", batch: 100, concurrency: concurrencyBatch, ingestEnv: {} },
  { name: "batch100-baseline", batch: 100, concurrency: concurrencyBatch, ingestEnv: BASELINE },
].filter((s) => !values.only || values.only.split(",").includes(s.name));

const env = await sharedStack();
const kafka = createKafka(
  { brokers: env.KAFKA_BROKERS.split(","), clientId: "bench" },
  silentLogger,
);
const admin = kafka.admin();
await admin.connect();
const topic = uniqueName("bench_ingest");
await createTopicsAndWait(admin, [{ topic, numPartitions: 6 }]);

interface Result {
  scenario: Scenario;
  load: LoadSummary;
  rssMiB: number;
  /** CPU cores used on average during the run, by process. */
  cores: { ingest: number; load: number; kafka: number };
}
const results: Result[] = [];
const brokerPid = (await readState("local"))?.kafka[0]?.pid;
const loadBefore = Deno.loadavg();
try {
  for (const scenario of scenarios) {
    console.error(
      `== ${scenario.name}: ${duration} s after ${warmup} s warm-up, concurrency ${scenario.concurrency}`,
    );
    const ingest = await spawnIngest({
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      INGEST_HOST: "127.0.0.1",
      WEBHOOK_SECRET: SECRET,
      PULL_ENABLED: "false",
      ...scenario.ingestEnv,
    });
    const sampler = sampleProcess(ingest.pid, 500);
    try {
      const result = await measure(scenario, ingest.port, sampler.cpuSeconds);
      result.rssMiB = sampler.maxRssMiB();
      results.push(result);
      console.error(
        JSON.stringify({ ...result.load, rssMiB: result.rssMiB, cores: result.cores }),
      );
    } finally {
      sampler.stop();
      ingest.kill("SIGTERM");
      const status = await ingest.status;
      if (status.code !== 0) console.error(`ingest exited with ${status.code}`);
    }
  }
} finally {
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
}

console.log(
  `Machine: ${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}; load average ` +
    `${loadBefore.map((l) => l.toFixed(2)).join(" ")} before, ` +
    `${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")} after (machine shared).`,
);
console.log("");
console.log(
  `| scenario | concurrency | events/s | requests/s | p50 ms | p99 ms | ingest RSS MiB | CPU cores ingest / load / kafka | answers |`,
);
console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
for (const { scenario, load, rssMiB, cores } of results) {
  console.log(
    `| ${scenario.name} | ${scenario.concurrency} | ${load.eventsPerSecond} | ${load.requestsPerSecond} | ${load.latencyMs.p50} | ${load.latencyMs.p99} | ${rssMiB} | ${cores.ingest} / ${cores.load} / ${cores.kafka} | ${
      Object.entries(load.statuses).map(([s, n]) => `${s}: ${n}`).join(", ")
    } |`,
  );
}

async function measure(
  scenario: Scenario,
  port: number,
  ingestCpu: () => Promise<number>,
): Promise<Result> {
  const child = loadProcess(port, scenario);
  const cpu = async (pid: number | undefined) =>
    pid === undefined ? Number.NaN : await cpuSeconds(pid).catch(() => Number.NaN);
  const t0 = performance.now();
  const before = [await ingestCpu(), await cpu(child.pid), await cpu(brokerPid)];
  // Stop sampling CPU just before the generator ends: sample at the planned end.
  const planned = (duration + warmup) * 1000;
  const after = await new Promise<number[]>((resolve) => {
    setTimeout(async () => {
      resolve([await ingestCpu(), await cpu(child.pid), await cpu(brokerPid)]);
    }, planned - 300);
  });
  const seconds = (performance.now() - t0) / 1000;
  const output = await child.output();
  const text = new TextDecoder().decode(output.stdout).trim();
  const load: LoadSummary = JSON.parse(text.split("\n").pop()!);
  const cores = (i: number) => Math.round(((after[i]! - before[i]!) / seconds) * 100) / 100;
  return {
    scenario,
    load,
    rssMiB: 0,
    cores: { ingest: cores(0), load: cores(1), kafka: cores(2) },
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
      "--rate=0",
      `--count=${100_000_000}`,
      `--duration=${duration + warmup}`,
      `--warmup=${warmup}`,
      `--batch=${scenario.batch}`,
      `--concurrency=${scenario.concurrency}`,
      "--json",
    ],
    cwd: new URL("..", import.meta.url).pathname,
    env: { WEBHOOK_SECRET: SECRET },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}
