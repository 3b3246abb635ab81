/**
 * `console/main.ts` with the `console` task's flags: the permissions it declares and the exit it
 * promises for bad configuration (the process ends before it listens).
 */
import assert from "node:assert/strict";
import { startProgram } from "../testing/program.ts";
import { taskArgs } from "../stack/programs.ts";
import { consoleConfigSchema } from "./config.ts";

Deno.test("the console task's --allow-env lists every variable the console reads, and it has no -A", () => {
  const flags = taskArgs("console");
  const allowEnv = flags.find((f) => f.startsWith("--allow-env="))?.slice(12).split(",") ?? [];
  for (const key of Object.keys(consoleConfigSchema.shape)) {
    assert.ok(allowEnv.includes(key), `--allow-env includes ${key}`);
  }
  assert.ok(
    !flags.some((f) =>
      f === "-A" || f === "--allow-all" || f.startsWith("--allow-write") ||
      f.startsWith("--allow-run")
    ),
  );
});

Deno.test("the console exits 2 naming CONSOLE_TOKEN when asked to listen beyond loopback without one", async () => {
  const console = await startProgram("console", {
    KAFKA_BROKERS: "127.0.0.1:9",
    CONSOLE_HOST: "0.0.0.0",
    KAFKA_SASL_MECHANISM: "plain",
    KAFKA_SASL_USERNAME: "u",
    KAFKA_SASL_PASSWORD: "do-not-log-me",
    KAFKA_SSL: "true",
  }, { listening: false });
  const status = await console.exited;
  assert.equal(status.code, 2);
  const line = console.logs.find((l) => Array.isArray(l.problems));
  assert.ok(line, JSON.stringify(console.logs));
  assert.deepEqual((line.problems as { variable: string }[]).map((p) => p.variable), [
    "CONSOLE_TOKEN",
  ]);
  assert.ok(!JSON.stringify(console.logs).includes("do-not-log-me"), "no secret in the logs");
});
