/**
 * The tasks at a terminal behave as they do in the tests and under `deno task dev` (no TTY):
 * a permission the task does not grant is refused, never asked for. Before `--no-prompt`, every
 * task that loads the Kafka client stopped at "Allow? [y/n/A]" (the `debug` package lists the
 * environment at import; the client tries a native CRC32 addon by FFI). Each task runs here
 * under a pseudo-terminal (`script`, util-linux) and must end on its own.
 */
import assert from "node:assert/strict";
import { ROOT } from "../stack/paths.ts";

const hasScript = await new Deno.Command("script", { args: ["--version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

const NO_KAFKA = "KAFKA_BROKERS=127.0.0.1:9 KAFKA_START_TIMEOUT_MS=2000";
const cases: [task: string, env: string, args: string, code: number][] = [
  ["worker", `${NO_KAFKA} WAREHOUSE_URL=postgres://u@127.0.0.1:9/db WORKER_PORT=0`, "", 1],
  ["ingest", `${NO_KAFKA} INGEST_ALLOW_UNSIGNED=true INGEST_PORT=0 PULL_ENABLED=false`, "", 1],
  ["redrive", NO_KAFKA, "--timeout-ms 2000", 1],
  ["console", "KAFKA_BROKERS=nohost", "", 2],
  ["stack", "", "status --name terminal-test-none", 0],
];

for (const [task, env, args, code] of cases) {
  Deno.test({
    name:
      `deno task ${task} at a terminal ends on its own (exit ${code}) without a permission prompt`,
    ignore: !hasScript,
    fn: async () => {
      const deno = Deno.execPath();
      const command = `env ${env} '${deno}' task -q ${task} ${args}`;
      const out = await new Deno.Command("script", {
        args: ["-qec", command, "/dev/null"],
        cwd: ROOT,
        env: { NO_COLOR: "1", PATH: `${deno.replace(/\/[^/]*$/, "")}:${Deno.env.get("PATH")}` },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        // A prompt waits forever: the signal ends the run.
        signal: AbortSignal.timeout(30_000),
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.doesNotMatch(text, /Allow\?|permission prompt/i, text);
      assert.equal(out.code, code, text);
    },
  });
}
