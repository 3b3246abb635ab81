/**
 * The numeric `PG*` variables postgres.js reads on its own (its options that the program does
 * not set), checked like the program's own variables before any connection.
 *
 * postgres.js turns them into numbers with `+value` (or `parseInt`) and uses what comes out:
 * `PGMAX_PIPELINE=-1` let the worker start, join its group, and then die writing nothing;
 * `PGKEEP_ALIVE=abc` is NaN. A program that admits these variables (its task's `--allow-env`)
 * checks them with this, so that a bad one is a configuration error naming it (exit 2).
 *
 * @example
 * ```ts
 * import { postgresEnvProblems } from "./postgres_env.ts";
 * const problems = postgresEnvProblems((key) => Deno.env.get(key));
 * ```
 */
import { env, type ReadEnv } from "./config.ts";

/** Each numeric variable postgres.js reads and the values that make sense for it. */
export const POSTGRES_NUMERIC_ENV = {
  /** The server's port when `WAREHOUSE_URL` has none. */
  PGPORT: [1, 65_535],
  /** Connections in the pool. */
  PGMAX: [1, 1_000],
  /** Seconds an idle connection stays open (0: forever). */
  PGIDLE_TIMEOUT: [0, 86_400],
  /** Seconds a connection may take to open. */
  PGCONNECT_TIMEOUT: [1, 3_600],
  /** Seconds a connection lives at most. */
  PGMAX_LIFETIME: [1, 604_800],
  /** Queries sent on one connection before their answers. */
  PGMAX_PIPELINE: [1, 100_000],
  /** Seconds between reconnection attempts. */
  PGBACKOFF: [0, 3_600],
  /** Seconds of TCP keep-alive (0: off). */
  PGKEEP_ALIVE: [0, 86_400],
} as const satisfies Record<string, readonly [number, number]>;

/**
 * One problem per numeric `PG*` variable that is set and not a whole number within its bounds,
 * in the shape of `ConfigError`'s problems. Empty strings count as unset, as in `loadConfig`.
 */
export function postgresEnvProblems(readEnv: ReadEnv): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  for (const [variable, [min, max]] of Object.entries(POSTGRES_NUMERIC_ENV)) {
    const value = readEnv(variable);
    if (value === undefined || value === "") continue;
    const result = env.int(min, max).safeParse(value);
    if (!result.success) {
      problems.push({
        variable,
        message: `expected a whole number from ${min} to ${max} (postgres.js reads it), ` +
          `got "${value}"`,
      });
    }
  }
  return problems;
}
