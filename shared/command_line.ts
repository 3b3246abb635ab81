/**
 * A command line read the way the docs promise: a mistyped flag, a missing value or a stray
 * word is one line saying what was wrong, the usage line, and exit 2, never an uncaught
 * `TypeError` stack trace with exit 1. `parseArgs` from `node:util`, strict.
 *
 * @example
 * ```ts
 * import { parseCommandLine } from "./command_line.ts";
 * const { values } = parseCommandLine({
 *   args: Deno.args,
 *   options: { name: { type: "string", default: "local" } },
 * }, "usage: deno task dev [--name NAME]");
 * ```
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * The message of `err` when `parseArgs` threw it for a bad command line (its codes start with
 * `ERR_PARSE_ARGS`); `undefined` for any other error.
 */
export function commandLineProblem(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS")) return undefined;
  // Node's advice on positionals that start with "-" is beside the point of a mistyped flag.
  return (err as Error).message.replace(/\. To specify a positional argument[^]*$/, "");
}

/**
 * `parseArgs(config)`; on a bad command line it writes the problem and `usage` to stderr and
 * exits 2.
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  config: T,
  usage: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const problem = commandLineProblem(err);
    if (problem === undefined) throw err;
    Deno.stderr.writeSync(new TextEncoder().encode(`${problem}\n${usage}\n`));
    Deno.exit(2);
  }
}
