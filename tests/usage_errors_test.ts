/**
 * The command-line tools answer a mistyped flag the way the docs promise for usage errors: one
 * line naming the problem, the usage line, exit 2, no stack trace (as `redrive` does).
 */
import assert from "node:assert/strict";
import { ROOT } from "../stack/paths.ts";

const cases: [task: string, args: string[], problem: RegExp][] = [
  ["stack", ["status", "--bogus"], /^Unknown option '--bogus'$/],
  ["stack", ["status", "--brokers"], /^Option '--brokers <value>' argument missing$/],
  ["dev", ["--nmae", "x"], /^Unknown option '--nmae'$/],
  ["load", ["--rat", "5"], /^Unknown option '--rat'$/],
];

for (const [task, args, problem] of cases) {
  Deno.test(`deno task ${task} ${args.join(" ")} is a usage error: one line, the usage, exit 2`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", task, ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, stderr);
    const lines = stderr.trimEnd().split("\n");
    assert.match(lines[0]!, problem);
    assert.match(lines[1]!, new RegExp(`^usage: deno task ${task}\\b`));
    assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
    assert.equal(new TextDecoder().decode(out.stdout), "", "nothing on stdout");
  });
}
