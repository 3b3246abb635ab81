import assert from "node:assert/strict";
import { compileArgs } from "./compile.ts";
import { taskArgs } from "./programs.ts";

for (const name of ["ingest", "worker", "console"] as const) {
  Deno.test(`compile builds ${name} with exactly the permission flags of its deno.json task`, () => {
    const run = taskArgs(name);
    const compile = compileArgs(name, "out");
    const permissionFlags = (args: string[]) =>
      args.filter((a) => /^--(allow|deny|unstable|v8-flags|no-prompt)/.test(a)).sort();
    assert.deepEqual(permissionFlags(compile), permissionFlags(run));
    assert.ok(compile.includes("--no-prompt"), "a binary at a terminal refuses, never asks");
    assert.ok(!compile.some((a) => a === "-A" || a === "--allow-all"), "no -A");
    assert.deepEqual(compile.slice(-3), ["--output", `out/${name}`, run.at(-1)]);
  });
}

Deno.test("compile embeds the modules and files each program loads at run time", () => {
  const included = (name: "ingest" | "worker" | "console") => {
    const args = compileArgs(name, "out");
    return args.flatMap((a, i) => a === "--include" ? [args[i + 1]] : []);
  };
  assert.deepEqual(included("ingest"), ["ingest/produce/producer_thread.ts"]);
  assert.deepEqual(included("console"), ["console/static/"]);
});
