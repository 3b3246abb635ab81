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
 * import { env, loadConfig } from "./config.ts";
 * const schema = z.object({ PORT: env.int(0, 65535).default(8080) });
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
  /** A comma-separated list of non-empty `host:port` entries, each port 1 to 65535. */
  hostPorts: () =>
    z.string().transform((s, ctx) => {
      const items = s.split(",").map((x) => x.trim()).filter(Boolean);
      for (const item of items) {
        const match = /^([^\s:]+):(\d{1,5})$/.exec(item);
        if (!match) {
          ctx.addIssue({ code: "custom", message: `expected host:port, got "${item}"` });
        } else if (!validHost(match[1]!)) {
          ctx.addIssue({
            code: "custom",
            message: `expected a host name or address, got "${item}"`,
          });
        } else if (Number(match[2]) < 1 || Number(match[2]) > 65535) {
          ctx.addIssue({
            code: "custom",
            message: `expected a port from 1 to 65535, got "${item}"`,
          });
        }
      }
      if (items.length === 0) ctx.addIssue({ code: "custom", message: "expected host:port list" });
      return items;
    }),
  /**
   * An integer within bounds, from its decimal digits (spaces around them allowed). Not what
   * `Number()` takes: `" "` would be 0, and `0x10` or `1e3` a number nobody meant to write.
   */
  int: (min: number, max: number) =>
    z.string().trim().regex(/^-?\d+$/, "expected a whole number in decimal digits")
      .transform(Number).pipe(z.number().int().min(min).max(max)),
  /** `true/false/1/0/yes/no`, case-insensitive. */
  bool: () =>
    z.string().toLowerCase().transform((s, ctx) => {
      if (["true", "1", "yes"].includes(s)) return true;
      if (["false", "0", "no"].includes(s)) return false;
      ctx.addIssue({ code: "custom", message: `expected true or false, got "${s}"` });
      return z.NEVER;
    }),
  /**
   * An address to listen on: an IPv4 address, an IPv6 address (brackets optional), or a host
   * name (`localhost`, `ingest.internal`); what the runtime would fail on with a stack trace
   * (`256.1.1.1`, a blank) is refused here, by name.
   */
  listenHost: () =>
    z.string().refine(validHost, {
      message: "expected an IP address or a host name (e.g. 0.0.0.0, 127.0.0.1, ::, localhost)",
      // Checks of the whole configuration (is it loopback?) are not run on a bad address.
      abort: true,
    }).transform((s) => s.replace(/^\[(.*)\]$/, "$1")),
  /** A name that must not be blank (a Kafka group or client id): 1 to `max` characters. */
  name: (max: number) => z.string().max(max).regex(/\S/, "must not be blank"),
  /** A log level name. */
  logLevel: () => z.enum(["debug", "info", "warn", "error"]),
};

/**
 * True for an IPv4 address with four octets of 0 to 255, an IPv6 address (in brackets or not)
 * or a host name of letters, digits and hyphens in dot-separated labels (RFC 1123; underscores
 * too, as container names have them) that is not all digits and dots (`256.1.1.1` is a bad
 * address, not a name).
 */
function validHost(host: string): boolean {
  if (/^[\d.]+$/.test(host)) {
    const octets = host.split(".");
    return octets.length === 4 && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255);
  }
  const inner = host.replace(/^\[(.*)\]$/, "$1");
  if (inner.includes(":")) {
    try {
      return /^[0-9a-f:.]+$/i.test(inner) && new URL(`http://[${inner}]/`).hostname !== "";
    } catch {
      return false;
    }
  }
  return host.length <= 253 &&
    host.split(".").every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(label));
}
