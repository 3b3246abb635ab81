import assert from "node:assert/strict";
import { taskArgs } from "./programs.ts";
import { downStack, stackDir, stackStatus } from "./stack.ts";

const STACK_MAIN = new URL("./main.ts", import.meta.url).pathname;
// The stack task's own flags (its `deno run` arguments less "run" and the entry point).
const FLAGS = taskArgs("stack").slice(1, -1);

async function runStack(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...FLAGS, STACK_MAIN, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("stack up says Java is missing instead of printing a stack trace", async () => {
  const name = `nojava-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const { code, stderr } = await runStack(["up", "--name", name], {
      PATH: "/nonexistent",
      STACK_CACHE_DIR: await Deno.makeTempDir(),
    });
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^stack: Cannot start Kafka: Java is not installed/m);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
  } finally {
    await downStack(name, { purge: true });
  }
});

Deno.test("stack up refuses a broker count other than 1 or 3", async () => {
  const { code, stderr } = await runStack(["up", "--brokers", "2", "--name", "unused"], {});
  assert.equal(code, 2);
  assert.match(stderr, /--brokers must be 1 or 3, got 2/);
});

Deno.test("stack down and status on a stack that was never created do nothing", async () => {
  const name = `never-${crypto.randomUUID().slice(0, 8)}`;
  await downStack(name);
  assert.deepEqual(await stackStatus(name), [`stack "${name}": not created`]);
});

Deno.test("stack up --secure on a stack created without it says to purge or rename", async () => {
  const name = `plain-${crypto.randomUUID().slice(0, 8)}`;
  const dir = stackDir(name);
  // A recorded, stopped plaintext stack: the check comes before anything is started.
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/state.json`,
    JSON.stringify({
      name,
      kafkaVersion: "4.1.1",
      clusterId: "unused",
      kafka: [{ nodeId: 1, port: 1, controllerPort: 2, dir: `${dir}/kafka-1` }],
      postgres: { port: 3, dir: `${dir}/postgres`, bin: "/nonexistent" },
      env: { KAFKA_BROKERS: "127.0.0.1:1", WAREHOUSE_URL: "postgres://unused" },
    }),
  );
  try {
    const { code, stderr } = await runStack(["up", "--secure", "--name", name], {});
    assert.equal(code, 1, stderr);
    assert.equal(
      stderr,
      `stack: Stack "${name}" was created without a SASL_SSL listener (--secure). ` +
        `Run "deno task stack down --purge --name ${name}" first, or use another --name.\n`,
    );
  } finally {
    await downStack(name, { purge: true });
  }
});
