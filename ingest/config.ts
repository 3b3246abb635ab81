/**
 * The ingest service's configuration: environment variables only, validated once at start.
 *
 * `ingestConfigSchema`'s keys are exactly the variables the ingest reads; the configuration
 * table in `docs/configuration.md` and `.env.example` document the same keys with the same
 * defaults.
 *
 * @example
 * ```ts
 * const config = loadIngestConfig((key) => Deno.env.get(key));
 * ```
 */
import { z } from "zod";
import { ConfigError, env, loadConfig, type ReadEnv } from "../shared/config.ts";
import { START_TIMEOUT_MS } from "../shared/kafka/first_answer.ts";
import { kafkaConnectionSchema, withKafkaChecks } from "../shared/kafka/settings.ts";
import { parseSecret } from "./http/webhook_signature.ts";

const MiB = 1024 * 1024;

/** `whsec_<base64>` secrets separated by spaces (more than one while rotating keys). */
const secrets = () =>
  z.string().transform((s, ctx) => {
    const keys: Uint8Array[] = [];
    for (const item of s.split(/\s+/).filter(Boolean)) {
      try {
        keys.push(parseSecret(item));
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
      }
    }
    return keys;
  });

/** Five cron fields (`minute hour day-of-month month day-of-week`), as `Deno.cron` takes them. */
const cronSchedule = () =>
  z.string().trim().regex(
    /^(\S+\s+){4}\S+$/,
    'expected five cron fields, e.g. "* * * * *"',
  );

/** Every variable the ingest reads, with its default. */
export const ingestConfigSchema = z.object({
  ...kafkaConnectionSchema,
  KAFKA_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, "expected a Kafka topic name")
    .default("user_created"),
  KAFKA_CLIENT_ID: env.name(255).default("ingest"),
  // A broker that accepts connections and never answers ends the start after this long.
  KAFKA_START_TIMEOUT_MS: env.int(1_000, 300_000).default(START_TIMEOUT_MS),
  INGEST_HOST: env.listenHost().default("0.0.0.0"),
  INGEST_PORT: env.int(0, 65535).default(8080),
  // Several ingest processes on one port (SO_REUSEPORT, Linux): the kernel spreads
  // connections among them. Off by default, so a second copy on a taken port fails loudly.
  INGEST_REUSE_PORT: env.bool().default(false),
  WEBHOOK_SECRET: secrets().default([]),
  WEBHOOK_TOLERANCE_SECONDS: env.int(1, 86_400).default(300),
  INGEST_ALLOW_UNSIGNED: env.bool().default(false),
  INGEST_REPLAY_CACHE_SIZE: env.int(0, 10_000_000).default(100_000),
  INGEST_MAX_BODY_BYTES: env.int(1024, 64 * MiB).default(MiB),
  // Body bytes held by all requests at once; beyond: 503 with Retry-After. A MiB of JSON users
  // costs 15-20 MiB of RSS while parsed, validated and produced (measured): 4 MiB keeps 48
  // concurrent large batches under ~300 MiB.
  INGEST_BODY_BYTES_IN_FLIGHT: env.int(1024, 1024 * MiB).default(4 * MiB),
  // Open connections at most: below the open-file limit (`ulimit -n`), with room for Kafka's
  // and the runtime's own files. 896 fits the common soft limit of 1,024. (Deno lets no program
  // without --allow-all read its own limit in /proc/self/limits.)
  INGEST_MAX_CONNECTIONS: env.int(1, 1_000_000).default(896),
  // A new connection's first request head must arrive within this.
  INGEST_HEADER_TIMEOUT_MS: env.int(100, 600_000).default(10_000),
  // A keep-alive connection with no new request this long after its last answer is closed.
  // Longer than the idle timeout of the load balancers in front (AWS ALB: 60 s), so that they
  // close first and never reuse a connection the ingest is closing.
  INGEST_IDLE_TIMEOUT_MS: env.int(100, 3_600_000).default(75_000),
  INGEST_MAX_ITEMS: env.int(1, 100_000).default(1000),
  INGEST_LINGER_MS: env.int(0, 1000).default(2),
  INGEST_BATCH_MAX_MESSAGES: env.int(1, 100_000).default(500),
  INGEST_BATCH_MAX_BYTES: env.int(1024, 64 * MiB).default(MiB),
  INGEST_BUFFER_MAX_BYTES: env.int(1024, 1024 * MiB).default(32 * MiB),
  INGEST_ACK_TIMEOUT_MS: env.int(100, 600_000).default(10_000),
  INGEST_SHUTDOWN_TIMEOUT_MS: env.int(100, 600_000).default(15_000),
  INGEST_PRODUCER_WORKER: env.bool().default(false),
  RANDOMUSER_URL: z.url({ protocol: /^https?$/ }).default("https://randomuser.me/api/"),
  PULL_ENABLED: env.bool().default(true),
  PULL_SCHEDULE: cronSchedule().default("* * * * *"),
  PULL_COUNT: env.int(1, 5000).default(10),
  PULL_TIMEOUT_MS: env.int(100, 600_000).default(10_000),
  PULL_RETRIES: env.int(0, 20).default(3),
  PULL_BACKOFF_MS: env.int(1, 600_000).default(500),
  LOG_LEVEL: env.logLevel().default("info"),
});

/** The ingest's configuration after validation. */
export type IngestConfig = z.output<typeof ingestConfigSchema>;

/**
 * Reads and validates the ingest's variables.
 * @throws {ConfigError} naming every bad variable, including a missing `WEBHOOK_SECRET` when
 * unsigned requests are not explicitly allowed and a buffer too small for the largest body.
 */
export function loadIngestConfig(readEnv: ReadEnv): Readonly<IngestConfig> {
  const noSecret = {
    variable: "WEBHOOK_SECRET",
    message: "required (whsec_<base64>) unless INGEST_ALLOW_UNSIGNED=true",
  };
  let config;
  try {
    config = loadConfig(withKafkaChecks(ingestConfigSchema), readEnv);
  } catch (err) {
    // A first start with nothing set names both required variables at once, not one per try.
    const unsigned = ["true", "1", "yes"].includes(
      readEnv("INGEST_ALLOW_UNSIGNED")?.toLowerCase() ?? "",
    );
    if (
      err instanceof ConfigError && !readEnv("WEBHOOK_SECRET")?.trim() && !unsigned &&
      !err.problems.some((p) => p.variable === "WEBHOOK_SECRET")
    ) {
      throw new ConfigError([...err.problems, noSecret]);
    }
    throw err;
  }
  const problems: { variable: string; message: string }[] = [];
  if (config.WEBHOOK_SECRET.length === 0 && !config.INGEST_ALLOW_UNSIGNED) problems.push(noSecret);
  // A request's events are larger than its body (envelope); a buffer smaller than two bodies
  // would refuse the largest allowed request forever.
  if (config.INGEST_BUFFER_MAX_BYTES < 2 * config.INGEST_MAX_BODY_BYTES) {
    problems.push({
      variable: "INGEST_BUFFER_MAX_BYTES",
      message: `must be at least twice INGEST_MAX_BODY_BYTES (${2 * config.INGEST_MAX_BODY_BYTES})`,
    });
  }
  if (config.INGEST_BODY_BYTES_IN_FLIGHT < config.INGEST_MAX_BODY_BYTES) {
    problems.push({
      variable: "INGEST_BODY_BYTES_IN_FLIGHT",
      message: `must be at least INGEST_MAX_BODY_BYTES (${config.INGEST_MAX_BODY_BYTES})`,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
