/**
 * The console's configuration: exactly the environment variables it reads, validated at start.
 *
 * Safe by default: it listens on 127.0.0.1; any other address needs `CONSOLE_TOKEN`, and so does
 * every action that writes (re-drive).
 *
 * @example
 * ```ts
 * const config = loadConsoleConfig((key) => Deno.env.get(key));
 * ```
 */
import { z } from "zod";
import { env, loadConfig, type ReadEnv } from "../shared/config.ts";
import { kafkaConnectionSchema, withKafkaChecks } from "../shared/kafka/settings.ts";

const topicName = () => z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, "expected a Kafka topic name");
const sqlName = () =>
  z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "expected a lower-case SQL identifier");

/** A comma-separated list of http(s) base URLs (no query, no fragment), as `URL`s' text. */
const baseUrls = () =>
  z.string().transform((s, ctx) => {
    const out: string[] = [];
    for (const item of s.split(",").map((x) => x.trim()).filter(Boolean)) {
      let url: URL;
      try {
        url = new URL(item);
      } catch {
        ctx.addIssue({ code: "custom", message: `expected an http(s) URL, got "${item}"` });
        continue;
      }
      if (!/^https?:$/.test(url.protocol) || url.search || url.hash) {
        ctx.addIssue({ code: "custom", message: `expected an http(s) base URL, got "${item}"` });
        continue;
      }
      out.push(url.href.replace(/\/$/, ""));
    }
    return out;
  });

/**
 * A URL template for an event's trace in a tracing UI: http(s), with `{trace_id}` where the 32
 * hex digits go (e.g. `http://jaeger:16686/trace/{trace_id}`).
 */
const traceUrlTemplate = () =>
  z.string().refine((s) => {
    if (!s.includes("{trace_id}")) return false;
    try {
      return /^https?:$/.test(new URL(s.replaceAll("{trace_id}", "0")).protocol);
    } catch {
      return false;
    }
  }, "expected an http(s) URL with {trace_id} in it, e.g. http://jaeger:16686/trace/{trace_id}");

/** Every variable the console reads, with its default. */
export const consoleConfigSchema = z.object({
  ...kafkaConnectionSchema,
  /** The topic of user events. */
  KAFKA_TOPIC: topicName().default("user_created"),
  /** The dead-letter topic. */
  KAFKA_DLQ_TOPIC: topicName().default("user_created.dlq"),
  /** The workers' consumer group, whose lag is shown (and the prefix of re-drive groups). */
  KAFKA_GROUP_ID: env.name(255).default("user-pipeline-worker"),
  /** The console's Kafka client id. */
  KAFKA_CLIENT_ID: env.name(255).default("user-pipeline-console"),
  /** The interface to listen on; anything but loopback needs `CONSOLE_TOKEN`. */
  CONSOLE_HOST: env.listenHost().default("127.0.0.1"),
  /** The HTTP port; 0 picks a free one (see the `listening` log line). */
  CONSOLE_PORT: env.int(0, 65535).default(8070),
  /** Bearer token for the API; required off loopback and for re-drive. Never logged. */
  CONSOLE_TOKEN: z.string().min(16, "at least 16 characters").regex(
    /^[\x21-\x7e]+$/,
    "printable ASCII without spaces",
  ).optional(),
  /** The ingest instances' base URLs (their `/metrics`, `/readyz`, `/v1/pull/runs`). */
  CONSOLE_INGEST_URLS: baseUrls().default([]),
  /** The worker instances' base URLs (their `/metrics`, `/readyz`). */
  CONSOLE_WORKER_URLS: baseUrls().default([]),
  /** The warehouse, read-only (finding an event's row); unset: no row look-ups. */
  CONSOLE_WAREHOUSE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** The schema of the `users` table. */
  WAREHOUSE_SCHEMA: sqlName().default("public"),
  /** The table name. */
  WAREHOUSE_TABLE: sqlName().default("users"),
  /** How often the one poller samples, in ms. */
  CONSOLE_POLL_MS: env.int(200, 60_000).default(1_000),
  /** How much history the live view keeps, in seconds. */
  CONSOLE_HISTORY_SECONDS: env.int(10, 86_400).default(900),
  /** How long one instance's `/metrics` or `/readyz` may take, in ms. */
  CONSOLE_SCRAPE_TIMEOUT_MS: env.int(50, 30_000).default(800),
  /** The newest dead letters read for the dead-letter view (all partitions together). */
  CONSOLE_DLQ_SCAN_RECORDS: env.int(1, 1_000_000).default(5_000),
  /** Most records one search reads. */
  CONSOLE_FIND_MAX_RECORDS: env.int(1, 10_000_000).default(50_000),
  /** Longest one search may read, in ms. */
  CONSOLE_FIND_MAX_MS: env.int(100, 120_000).default(10_000),
  /** Where an event's trace is shown: a link from each event found (none when unset). */
  CONSOLE_TRACE_URL: traceUrlTemplate().optional(),
  /** Log level. */
  LOG_LEVEL: env.logLevel().default("info"),
});

/** The console's validated configuration. */
export type ConsoleConfig = z.output<typeof consoleConfigSchema>;

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}

/**
 * Reads and validates the console's variables.
 * @throws {ConfigError} naming every variable that is missing or malformed, and
 *   `CONSOLE_TOKEN` when `CONSOLE_HOST` is not a loopback address and no token is set.
 */
export function loadConsoleConfig(readEnv: ReadEnv): Readonly<ConsoleConfig> {
  const schema = withKafkaChecks(consoleConfigSchema).superRefine((c, ctx) => {
    if (!isLoopback(c.CONSOLE_HOST) && c.CONSOLE_TOKEN === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["CONSOLE_TOKEN"],
        message: `required to listen on CONSOLE_HOST=${c.CONSOLE_HOST} (not a loopback address)`,
      });
    }
  });
  return loadConfig(schema, readEnv);
}
