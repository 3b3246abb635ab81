/**
 * `deno task bench:kafkajs-idle`: CPU used by an idle kafkajs consumer (joined to a group,
 * nothing to read) and an idle connected producer over a fixed window, with kafkajs 2.2.4 as
 * published and with `shared/kafkajs_fix.ts` applied. Each variant runs in its own process.
 */
// deno-lint-ignore-file no-console -- a benchmark: its output is for the terminal
import { Kafka, logLevel } from "kafkajs";
import process from "node:process";
import { fixKafkajsRequestQueue } from "../shared/kafkajs_fix.ts";
import { sharedStack, uniqueName } from "../stack/harness.ts";
import { taskArgs } from "../stack/programs.ts";

// This benchmark's own task flags, for the child processes.
const FLAGS = taskArgs("bench:kafkajs-idle").slice(1, -1);
const WINDOW_MS = Number(Deno.env.get("IDLE_WINDOW_MS") ?? 10_000);

async function measure(brokers: string, fixed: boolean): Promise<number> {
  if (fixed) fixKafkajsRequestQueue();
  const kafka = new Kafka({
    clientId: "idle",
    brokers: brokers.split(","),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: uniqueName("idle"), allowAutoTopicCreation: false });
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic: "user_created.dlq" });
  const joined = Promise.withResolvers<void>();
  consumer.on(consumer.events.GROUP_JOIN, () => joined.resolve());
  await consumer.run({ eachMessage: async () => {} });
  await joined.promise;
  const before = process.cpuUsage();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const used = process.cpuUsage(before);
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  return (used.user + used.system) / 1000;
}

if (Deno.args[0] === "--variant") {
  const env = await sharedStack();
  const ms = await measure(env.KAFKA_BROKERS, Deno.args[1] === "fixed");
  console.log(JSON.stringify({ cpuMs: ms }));
} else {
  await sharedStack();
  const results: Record<string, number> = {};
  for (const variant of ["published", "fixed"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...FLAGS, import.meta.filename!, "--variant", variant],
      stderr: "inherit",
    }).output();
    const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!;
    results[variant] = JSON.parse(line).cpuMs;
  }
  const s = WINDOW_MS / 1000;
  console.log(`idle consumer + producer, ${s} s window (CPU time, lower is better)`);
  for (const [k, v] of Object.entries(results)) {
    console.log(
      `  kafkajs 2.2.4 ${k.padEnd(9)} ${v.toFixed(0).padStart(6)} ms  (${
        (v / s / 10).toFixed(1)
      }% of one core)`,
    );
  }
  console.log(`  ratio published/fixed: ${(results.published! / results.fixed!).toFixed(1)}x`);
}
