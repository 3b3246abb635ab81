/**
 * JSON-lines logging through an injected logger.
 *
 * One line per entry: `{"time","level","msg",...bindings,...fields}`. Fields whose name looks
 * like a secret are replaced by `"[redacted]"`, and credentials inside URLs are masked, so a
 * logged config or error cannot leak a password or the webhook secret.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "info" }).child({ component: "ingest" });
 * log.info("listening", { port: 8080 });
 * ```
 */

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured fields added to an entry. */
export type LogFields = Record<string, unknown>;

/** What every component logs through. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every entry. */
  child(bindings: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /secret|password|passwd|token|authorization|signature|api[_-]?key/i;

/** Options for `createLogger`. */
export interface LoggerOptions {
  /** Entries below this level are dropped (default `info`). */
  level?: LogLevel;
  /** Where a finished line goes (default: standard error). */
  write?: (line: string) => void;
  /** The clock (default `Date.now`). */
  now?: () => number;
}

/** Creates a JSON-lines logger. */
export function createLogger(opts: LoggerOptions = {}, bindings: LogFields = {}): Logger {
  const min = ORDER[opts.level ?? "info"];
  const encoder = new TextEncoder();
  const write = opts.write ??
    ((line: string) => Deno.stderr.writeSync(encoder.encode(line + "\n")));
  const now = opts.now ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const entry = { time: new Date(now()).toISOString(), level, msg, ...bindings, ...fields };
    write(JSON.stringify(entry, redactor));
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (more) => createLogger(opts, { ...bindings, ...more }),
  };
}

/** A logger that drops everything (for tests that do not look at logs). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

/** Masks the password in `scheme://user:password@host/...` URLs. */
export function redactUrl(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, "$1[redacted]@");
}

/** Turns an unknown thrown value into loggable fields (name, message, cause chain). */
export function errorFields(err: unknown): LogFields {
  if (!(err instanceof Error)) return { error: redactUrl(String(err)) };
  const fields: LogFields = { error: redactUrl(err.message), errorName: err.name };
  if (err.cause !== undefined) fields.cause = errorFields(err.cause);
  return fields;
}

function redactor(key: string, value: unknown): unknown {
  if (key && SECRET_KEY.test(key) && value !== undefined && value !== null) return "[redacted]";
  if (typeof value === "string") return redactUrl(value);
  if (value instanceof Error) return errorFields(value);
  if (typeof value === "bigint") return value.toString();
  return value;
}
