/**
 * Configuration from environment variables, parsed once at start.
 *
 * `loadConfig(schema, readEnv)` reads exactly the keys the zod object schema names, lets zod
 * coerce and default them, reports every bad variable in one `ConfigError`, and returns a
 * frozen object.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { loadConfig } from "./config.ts";
 * const schema = z.object({ PORT: z.coerce.number().int().default(8080) });
 * const config = loadConfig(schema, (key) => Deno.env.get(key));
 * ```
 */
import { z } from "zod";

/** Every configuration problem at once, each naming its variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** One entry per bad variable: `{ variable, message }`. */
  readonly problems: readonly { variable: string; message: string }[];

  constructor(problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration: ${
        problems.map((p) => `Cannot parse ${p.variable}: ${p.message}`).join("; ")
      }`,
    );
    this.problems = problems;
  }
}

/** Reads one variable; `undefined` when it is unset. */
export type ReadEnv = (key: string) => string | undefined;

/**
 * Parses the variables named by `schema`. Empty strings count as unset, so that
 * `FOO=` in an env file falls back to the default rather than failing.
 * @throws {ConfigError} listing every variable that is missing or malformed.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  readEnv: ReadEnv,
): Readonly<z.output<S>> {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = readEnv(key);
    raw[key] = value === "" ? undefined : value;
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? "(config)"),
      message: issue.message,
    })));
  }
  return Object.freeze(result.data);
}

/** Builders for the value types that recur across the programs' variables. */
export const env = {
  /** A comma-separated list of non-empty `host:port` entries. */
  hostPorts: () =>
    z.string().transform((s, ctx) => {
      const items = s.split(",").map((x) => x.trim()).filter(Boolean);
      for (const item of items) {
        if (!/^[^\s:]+:\d{1,5}$/.test(item)) {
          ctx.addIssue({ code: "custom", message: `expected host:port, got "${item}"` });
        }
      }
      if (items.length === 0) ctx.addIssue({ code: "custom", message: "expected host:port list" });
      return items;
    }),
  /** An integer within bounds, from its decimal text. */
  int: (min: number, max: number) => z.coerce.number().int().min(min).max(max),
  /** `true/false/1/0/yes/no`, case-insensitive. */
  bool: () =>
    z.string().toLowerCase().transform((s, ctx) => {
      if (["true", "1", "yes"].includes(s)) return true;
      if (["false", "0", "no"].includes(s)) return false;
      ctx.addIssue({ code: "custom", message: `expected true or false, got "${s}"` });
      return z.NEVER;
    }),
  /** A log level name. */
  logLevel: () => z.enum(["debug", "info", "warn", "error"]),
};
