import assert from "node:assert/strict";
import { taskArgs } from "./programs.ts";
import { downStack, stackStatus } from "./stack.ts";

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
