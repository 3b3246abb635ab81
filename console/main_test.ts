/**
 * `console/main.ts` with the `console` task's flags: the permissions it declares, the exit it
 * promises for bad configuration (the process ends before it listens), and a second Ctrl-C.
 */
import assert from "node:assert/strict";
import { startProgram } from "../testing/program.ts";
import { silentListener } from "../testing/silent_listener.ts";
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

Deno.test("the console task bounds V8's heap, and V8 takes the bound", async () => {
  // Without the bound, searches raised the heap in steps (4 GiB allowed) and RSS with it; see
  // docs/benchmarks.md, "The console's memory through many searches".
  const v8Flags = taskArgs("console").find((f) => f.startsWith("--v8-flags="));
  assert.ok(v8Flags, "the console task has --v8-flags");
  const mib = (name: string) => Number(new RegExp(`--${name}=(\\d+)`).exec(v8Flags)?.[1]);
  const oldSpace = mib("max-old-space-size");
  const semiSpace = mib("max-semi-space-size");
  assert.ok(oldSpace > 0 && oldSpace <= 256, `old space ${oldSpace} MiB, at most 256`);
  assert.ok(semiSpace > 0 && semiSpace <= 16, `semi-space ${semiSpace} MiB, at most 16`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      v8Flags,
      'import v8 from "node:v8"; console.log(v8.getHeapStatistics().heap_size_limit)',
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  // V8 counts the young generation as three semi-spaces (two, and as much for large objects).
  assert.equal(
    Number(new TextDecoder().decode(out.stdout)) / 1024 / 1024,
    oldSpace + 3 * semiSpace,
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

Deno.test("a second SIGINT ends the console at once, exit 130, with a line saying so", async () => {
  // Against a broker that accepts and never answers, the graceful stop waits for Kafka until its
  // 10 s deadline (exit 1): only the second SIGINT can end it with 130.
  await using silent = silentListener();
  const console = await startProgram("console", { KAFKA_BROKERS: silent.address });
  console.kill("SIGINT");
  await console.waitForLog((l) => l.msg === "stopping", 10_000, "the graceful stop");
  console.kill("SIGINT");
  const status = await console.exited;
  assert.deepEqual(
    { code: status.code, signal: status.signal },
    { code: 130, signal: null },
    `exited by itself, not killed by the signal: ${JSON.stringify(console.logs.slice(-3))}`,
  );
  const line = console.logs.find((l) => l.level === "warn" && l.msg?.startsWith("second SIGINT"));
  assert.ok(line, JSON.stringify(console.logs));
  assert.equal(line.msg, "second SIGINT: exiting at once, without finishing the stop");
  assert.equal(line.exitCode, 130);
});

Deno.test("a taken CONSOLE_PORT ends the console with exit 1 and one line naming CONSOLE_PORT, no stack trace", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  const console = await startProgram("console", {
    KAFKA_BROKERS: "127.0.0.1:9",
    CONSOLE_PORT: String(port),
  }, { listening: false });
  const status = await console.exited;
  assert.equal(status.code, 1, JSON.stringify(console.logs));
  assert.deepEqual(console.logs.map((l) => [l.level, l.msg]), [[
    "error",
    `Cannot listen on 127.0.0.1:${port}: the port is taken by another process; set CONSOLE_PORT ` +
    "to a free port (0 picks one)",
  ]]);
});
