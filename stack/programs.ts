/**
 * The pipeline's programs and their `deno run` arguments as their `deno.json` task declares
 * them, for whatever runs them with exactly those flags: `deno task dev`, the compiled binaries,
 * and the test kit's program starter (`testing/program.ts`).
 *
 * @example
 * ```ts
 * const [run, ...flagsAndEntry] = taskArgs("worker"); // ["run", "--v8-flags=…", …, "worker/main.ts"]
 * ```
 */
import { ROOT } from "./paths.ts";

/** A program of the pipeline, by its `deno.json` task name. */
export type ProgramName = "ingest" | "worker" | "console";

/**
 * The `deno run` arguments (`run`, flags, entry point) of `task` in the `deno.json` of `root`
 * (default this checkout; a benchmark passes a baseline revision's folder).
 * @throws {Error} when there is no such task or it is not a plain `deno run`.
 */
export function taskArgs(task: string, root = ROOT): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`));
  const entry = config.tasks?.[task];
  const command: string | undefined = typeof entry === "string" ? entry : entry?.command;
  if (!command) throw new Error(`${root}/deno.json has no task "${task}"`);
  const words = command.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run") {
    throw new Error(`task "${task}" is not a plain "deno run": ${command}`);
  }
  return words.slice(1);
}
