/**
 * The ingest's producer: the shared acknowledged Kafka producer (`createKafkaProducer`) bound
 * to one topic, with a cached readiness probe. `send` resolves only when Kafka acknowledged every message
 * (acks=all, idempotent); after a failed send the client starts over with a new producer id
 * by itself, so no batch the broker may have written is ever taken for a later duplicate.
 */
import type { Logger } from "../../shared/logger.ts";
import { createKafkaProducer } from "../../shared/kafka/producer.ts";
import type { KafkaConnection } from "../../shared/kafka/settings.ts";
import type { OutgoingMessage, TopicProducer } from "./port.ts";

/** Options for `createTopicProducer`. */
export interface TopicProducerOptions {
  topic: string;
  logger: Logger;
  /** How long a readiness answer is reused, in ms (default 1000). */
  readyCacheMs?: number;
  /** How long `connect` waits for Kafka's first answer, in ms (default 10 s). */
  startTimeoutMs?: number;
  /**
   * How long one request to a broker may wait for its answer, in ms (default 30 s). The ingest
   * gives it its acknowledgement timeout: a request the caller was already answered 503 for need
   * not hold the client longer, and the client's next try goes to the next broker.
   */
  requestTimeoutMs?: number;
}

/** The producer for `opts.topic` on `connection`. */
export function createTopicProducer(
  connection: KafkaConnection,
  opts: TopicProducerOptions,
): TopicProducer {
  const producer = createKafkaProducer(connection, {
    logger: opts.logger,
    startTimeoutMs: opts.startTimeoutMs,
    ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
  });
  const cacheMs = opts.readyCacheMs ?? 1000;
  let probe: { at: number; result: Promise<boolean> } | undefined;
  return {
    connect: () => producer.connect([opts.topic]),
    send: (messages: OutgoingMessage[]) => producer.send(opts.topic, messages),
    ready() {
      const t = Date.now();
      if (!probe || t - probe.at > cacheMs) probe = { at: t, result: producer.ready(opts.topic) };
      return probe.result;
    },
    problem: () => producer.lastProblem(),
    leaders: () => producer.leaders(opts.topic),
    disconnect: () => producer.close(),
  };
}
