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
 * deno task bench:ingest [--duration 12] [--warmup 3] [--concurrency 32] [--only single,batch100]
 * ```
 */
import { parseArgs } from "node:util";
import { createKafka } from "../shared/kafka.ts";
import { silentLogger } from "../shared/logger.ts";
import { sharedStack, uniqueName } from "../stack/harness.ts";
import { spawnIngest } from "../ingest/spawn_ingest.ts";
import type { LoadSummary } from "../load/run_load.ts";
import { sampleRss } from "./ingest_rss.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "12" },
    warmup: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
    only: { type: "string", default: "" },
  },
});
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const concurrency = Number(values.concurrency);

const SECRET = "whsec_" + btoa(crypto.randomUUID());
const BASELINE = { INGEST_BATCH_MAX_MESSAGES: "1", INGEST_LINGER_MS: "0" };

interface Scenario {
  name: string;
  batch: number;
  ingestEnv: Record<string, string>;
}
const scenarios: Scenario[] = [
  { name: "single", batch: 1, ingestEnv: {} },
  { name: "single-baseline", batch: 1, ingestEnv: BASELINE },
  { name: "batch100", batch: 100, ingestEnv: {} },
  { name: "batch100-baseline", batch: 100, ingestEnv: BASELINE },
].filter((s) => !values.only || values.only.split(",").includes(s.name));

const env = await sharedStack();
const kafka = createKafka(
  { brokers: env.KAFKA_BROKERS.split(","), clientId: "bench" },
  silentLogger,
);
const admin = kafka.admin();
await admin.connect();
const topic = uniqueName("bench_ingest");
await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });

const results: { scenario: Scenario; load: LoadSummary; rssMiB: number }[] = [];
try {
  for (const scenario of scenarios) {
    console.error(
      `== ${scenario.name}: ${duration} s after ${warmup} s warm-up, concurrency ${concurrency}`,
    );
    const ingest = await spawnIngest({
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      INGEST_HOST: "127.0.0.1",
      WEBHOOK_SECRET: SECRET,
      PULL_ENABLED: "false",
      LOG_LEVEL: "info",
      ...scenario.ingestEnv,
    });
    const rss = sampleRss(ingest.pid, 500);
    try {
      const load = await runLoadProcess(ingest.port, scenario.batch);
      results.push({ scenario, load, rssMiB: rss.maxMiB() });
      console.error(JSON.stringify({ scenario: scenario.name, ...load, rssMiB: rss.maxMiB() }));
    } finally {
      rss.stop();
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
  `| scenario | concurrency | events/s | requests/s | p50 ms | p99 ms | ingest RSS MiB | answers |`,
);
console.log(`| --- | --- | --- | --- | --- | --- | --- | --- |`);
for (const { scenario, load, rssMiB } of results) {
  console.log(
    `| ${scenario.name} | ${concurrency} | ${load.eventsPerSecond} | ${load.requestsPerSecond} | ${load.latencyMs.p50} | ${load.latencyMs.p99} | ${rssMiB} | ${
      Object.entries(load.statuses).map(([s, n]) => `${s}: ${n}`).join(", ")
    } |`,
  );
}

async function runLoadProcess(port: number, batch: number): Promise<LoadSummary> {
  const output = await new Deno.Command(Deno.execPath(), {
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
      `--batch=${batch}`,
      `--concurrency=${concurrency}`,
      "--json",
    ],
    cwd: new URL("..", import.meta.url).pathname,
    env: { WEBHOOK_SECRET: SECRET },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  return JSON.parse(text.split("\n").pop()!);
}
