/**
 * `deno task soak`: a steady run of the whole pipeline (webhook → 3-broker Kafka → two workers →
 * PostgreSQL) with the RSS of the ingest and the workers (`ps -o rss=`) and the group's lag
 * sampled every few seconds.
 *
 *   deno task soak [--seconds 600] [--rate 200] [--sample-seconds 10] [--csv FILE]
 *
 * Passes when, per process, the highest RSS of the last fifth of the run is at most
 * RSS_BOUND_MIB above the RSS after warm-up (the first fifth), the lag returns to zero after the
 * load stops, and the ledger shows nothing lost, doubled or stale. Prints a CSV of the samples
 * and a small table; exits 1 on failure.
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { testKafka } from "../testing/kafka.ts";
import { type RunningProgram, startProgram } from "../testing/program.ts";
import { waitUntil } from "../testing/wait.ts";
import { TEST_SECRET } from "../testing/webhook.ts";
import { privateStack, uniqueName } from "../stack/harness.ts";
import { rssMiB } from "./rss.ts";
import { createTopicPair, POLL } from "./fault_run.ts";
import { checkLedger, versionOf } from "./ledger.ts";
import { startLedgerLoad } from "./ledger_load.ts";
import { startOffsetAuditor } from "./offset_auditor.ts";
import { ingestEnv, workerEnv } from "./pipeline_env.ts";

/** Allowed RSS growth per process between warm-up and the end of the run. */
export const RSS_BOUND_MIB = 48;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "600" },
    rate: { type: "string", default: "200" },
    "sample-seconds": { type: "string", default: "10" },
    csv: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const sampleSeconds = Number(values["sample-seconds"]);
if (![seconds, rate, sampleSeconds].every((n) => Number.isInteger(n) && n > 0) || seconds > 7200) {
  throw new Error("Cannot parse --seconds, --rate or --sample-seconds: expected positive integers");
}
const out = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(`${text}\n`));

interface Sample {
  t: number;
  ingest: number;
  worker1: number;
  worker2: number;
  lag: number;
  acked: number;
}

const stack = await privateStack({ prefix: "soak", brokers: 3 });
const kafka = await testKafka(stack.env.KAFKA_BROKERS);
const admin = kafka.admin;
const sql = postgres(stack.env.WAREHOUSE_URL, { max: 2, onnotice: () => {} });
const names = {
  topic: uniqueName("soak"),
  dlq: "",
  groupId: "",
  schema: uniqueName("soak"),
};
names.dlq = `${names.topic}.dlq`;
names.groupId = `${names.topic}_group`;
const programs: RunningProgram[] = [];
const samples: Sample[] = [];
let ok = false;
try {
  await createTopicPair(admin, [names.topic, names.dlq]);
  const ingest = await startProgram(
    "ingest",
    ingestEnv(stack.env, names, "http://127.0.0.1:9/api/"),
  );
  programs.push(ingest);
  const workers = await Promise.all(
    [1, 2].map(() => startProgram("worker", workerEnv(stack.env, names, 10_000))),
  );
  programs.push(...workers);
  const load = startLedgerLoad({
    target: () => `http://127.0.0.1:${ingest.port}`,
    secret: TEST_SECRET,
    rate,
    batch: 10,
    concurrency: 8,
    poolSize: 5_000,
    maxEvents: rate * seconds,
    maxMs: seconds * 1000,
    timeoutMs: 15_000,
    refuseEvery: 100,
  });
  const auditor = await startOffsetAuditor({
    connection: kafka.connection,
    admin,
    sql,
    ...names,
    sampleMs: 2_000,
  });
  const started = performance.now();
  out("t_s,ingest_rss_mib,worker1_rss_mib,worker2_rss_mib,lag,acked_events");
  const takeSample = async () => {
    await auditor.sample().catch(() => {});
    const [i, w1, w2] = await Promise.all(
      [ingest.pid, workers[0]!.pid, workers[1]!.pid].map(rssMiB),
    );
    const s: Sample = {
      t: Math.round((performance.now() - started) / 1000),
      ingest: i!,
      worker1: w1!,
      worker2: w2!,
      lag: auditor.lag(),
      acked: load.ledger.counts.acknowledged,
    };
    samples.push(s);
    out(`${s.t},${s.ingest},${s.worker1},${s.worker2},${s.lag},${s.acked}`);
  };
  // Sampling cadence is the measurement itself, not a synchronisation.
  const sampler = setInterval(() => takeSample().catch(() => {}), sampleSeconds * 1000);
  try {
    await load.done;
  } finally {
    clearInterval(sampler);
  }
  await waitUntil(
    async () => {
      await auditor.sample().catch(() => {});
      return auditor.lag() === 0;
    },
    120_000,
    "the lag to return to zero",
    POLL,
  );
  await takeSample();
  // The load may end a little before `seconds` (its first request is due at 0), so not below 0.
  const drainedAfter = Math.max(0, Math.round((performance.now() - started) / 1000) - seconds);
  await auditor.stop();
  const rows = await sql.unsafe(`select id, last_name from ${names.schema}.users`);
  const check = checkLedger(
    load.ledger,
    rows.map((r) => ({ id: String(r.id), version: versionOf(String(r.last_name)) })),
    auditor.deadIds,
  );

  const fifth = Math.max(1, Math.floor(samples.length / 5));
  const growth = (key: "ingest" | "worker1" | "worker2") => {
    const warm = samples.slice(0, fifth).map((s) => s[key]).filter(Number.isFinite);
    const late = samples.slice(-fifth).map((s) => s[key]).filter(Number.isFinite);
    return Math.round((Math.max(...late) - Math.max(...warm)) * 10) / 10;
  };
  const growths = {
    ingest: growth("ingest"),
    worker1: growth("worker1"),
    worker2: growth("worker2"),
  };
  out("");
  out(
    "| minute | ingest RSS (MiB) | worker 1 RSS (MiB) | worker 2 RSS (MiB) | lag | events acked |",
  );
  out("| --- | --- | --- | --- | --- | --- |");
  const perMinute = Math.max(1, Math.round(60 / sampleSeconds));
  for (let k = 0; k < samples.length; k += perMinute) {
    const s = samples[k]!;
    out(
      `| ${
        (s.t / 60).toFixed(1)
      } | ${s.ingest} | ${s.worker1} | ${s.worker2} | ${s.lag} | ${s.acked} |`,
    );
  }
  const last = samples.at(-1)!;
  out(
    `| end (+${drainedAfter} s drain) | ${last.ingest} | ${last.worker1} | ${last.worker2} | ${last.lag} | ${last.acked} |`,
  );
  out("");
  out(`RSS growth warm-up → end (MiB): ${JSON.stringify(growths)}; bound ${RSS_BOUND_MIB} MiB`);
  out(
    `ledger: accepted ${check.accepted}, rows ${check.rows}, lost ${check.lost.length}, duplicated ${check.duplicated.length}, stale ${check.stale.length}, offset checks ${auditor.verified()} (violations ${auditor.violations.length}), statuses ${
      JSON.stringify(load.statuses)
    }`,
  );
  ok = Object.values(growths).every((g) => g <= RSS_BOUND_MIB) && last.lag === 0 &&
    check.lost.length === 0 && check.duplicated.length === 0 && check.stale.length === 0 &&
    auditor.violations.length === 0;
  if (values.csv) {
    await Deno.writeTextFile(
      values.csv,
      [
        "t_s,ingest_rss_mib,worker1_rss_mib,worker2_rss_mib,lag,acked_events",
        ...samples.map((s) => `${s.t},${s.ingest},${s.worker1},${s.worker2},${s.lag},${s.acked}`),
      ].join("\n") + "\n",
    );
  }
  out(ok ? "soak: PASS" : "soak: FAIL");
} finally {
  await Promise.all(programs.map((p) => p.stop("SIGTERM", 5_000).catch(() => {})));
  await admin.deleteTopics([names.topic, names.dlq]).catch(() => {});
  await kafka.close().catch(() => {});
  await sql.end({ timeout: 5 });
  await stack.stop().catch((err) => out(`stack stop: ${(err as Error).message}`));
}
Deno.exit(ok ? 0 : 1);
