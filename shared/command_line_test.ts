import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { commandLineProblem } from "./command_line.ts";

Deno.test("commandLineProblem() tells a mistyped flag, a missing value and a stray word from other errors", () => {
  const options = { name: { type: "string" as const } };
  for (const args of [["--nmae", "x"], ["--name"], ["extra"]]) {
    let thrown: unknown;
    try {
      parseArgs({ args, options });
    } catch (err) {
      thrown = err;
    }
    assert.ok(commandLineProblem(thrown), `${args.join(" ")} is a command-line problem`);
  }
  assert.equal(commandLineProblem(new TypeError("x")), undefined);
  assert.equal(commandLineProblem(null), undefined);
});
