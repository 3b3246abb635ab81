/**
 * The Kafka client factory: one place that sets the options every program needs.
 *
 * - kafkajs log lines go through our JSON logger. The "group is rebalancing" errors that
 *   kafkajs logs at ERROR on every heartbeat during a normal rebalance are demoted to debug.
 * - kafkajs 2.2.4's request-queue timer loop is fixed (see `kafkajs_fix.ts`).
 * - Topic auto-creation is off everywhere a client could trigger it (a missing topic is an
 *   error, not a silent new topic); callers also pass `allowAutoTopicCreation: false`.
 *
 * @example
 * ```ts
 * const kafka = createKafka({ brokers: ["127.0.0.1:9092"], clientId: "ingest" }, logger);
 * const producer = kafka.producer(PRODUCER_DEFAULTS);
 * ```
 */
import { Kafka, type KafkaConfig, logLevel, type ProducerConfig } from "kafkajs";
import type { Logger } from "./logger.ts";
import { fixKafkajsRequestQueue } from "./kafkajs_fix.ts";

/** What `createKafka` needs. */
export interface KafkaClientConfig {
  brokers: string[];
  clientId: string;
  /** Per-request timeout in ms (default 30 s). */
  requestTimeoutMs?: number;
  /** TCP connect timeout in ms (default 3 s). */
  connectionTimeoutMs?: number;
  /** Use TLS to the brokers (Amazon MSK). */
  ssl?: boolean;
}

/** Options for an idempotent producer: acks=all is forced by kafkajs when idempotent. */
export const PRODUCER_DEFAULTS: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 5,
  allowAutoTopicCreation: false,
};

/** Creates a kafkajs client wired to `logger`. */
export function createKafka(config: KafkaClientConfig, logger: Logger): Kafka {
  fixKafkajsRequestQueue();
  const log = logger.child({ component: "kafkajs" });
  const options: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    requestTimeout: config.requestTimeoutMs ?? 30_000,
    connectionTimeout: config.connectionTimeoutMs ?? 3_000,
    retry: { initialRetryTime: 100, retries: 5, maxRetryTime: 5_000 },
    logLevel: logLevel.INFO,
    logCreator: () => ({ level, log: entry }) => {
      const { message, timestamp: _t, logger: _l, ...fields } = entry;
      const text = String(message);
      if (level <= logLevel.ERROR && !isRoutineRebalance(fields)) {
        log.error(text, fields);
      } else if (level === logLevel.WARN) {
        log.warn(text, fields);
      } else {
        log.debug(text, fields);
      }
    },
  };
  return new Kafka(options);
}

function isRoutineRebalance(fields: Record<string, unknown>): boolean {
  const error = String(fields.error ?? "");
  return error.includes("group is rebalancing") || error.includes("coordinator is loading") ||
    error.includes("coordinator is not available");
}
