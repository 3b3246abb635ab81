/**
 * The ingest's producer: the shared acknowledged Kafka producer bound to one topic, with a
 * cached readiness probe. `send` resolves only when Kafka acknowledged every message
 * (acks=all, idempotent); after a failed send the client starts over with a new producer id
 * by itself, so no batch the broker may have written is ever taken for a later duplicate.
 */
import type { Logger } from "../../shared/logger.ts";
import { createKafkaProducer as createSharedProducer } from "../../shared/kafka/producer.ts";
import type { KafkaConnection } from "../../shared/kafka/settings.ts";
import type { OutgoingMessage, Producer } from "./batcher.ts";

/** A producer that can connect, send, report readiness and disconnect. */
export interface KafkaProducer extends Producer {
  /**
   * Connects and checks the topic.
   * @throws {KafkaSetupError} naming the setting to fix, or the missing topic.
   */
  connect(): Promise<void>;
  /** True when the topic's metadata answers within a second (cached for `readyCacheMs`). */
  ready(): Promise<boolean>;
  /** Why the last connect, send or probe failed; undefined after a success. */
  problem(): string | undefined;
  disconnect(): Promise<void>;
}

/** Options for `createKafkaProducer`. */
export interface KafkaProducerOptions {
  topic: string;
  logger: Logger;
  /** How long a readiness answer is reused, in ms (default 1000). */
  readyCacheMs?: number;
}

/** The producer for `opts.topic` on `connection`. */
export function createKafkaProducer(
  connection: KafkaConnection,
  opts: KafkaProducerOptions,
): KafkaProducer {
  const producer = createSharedProducer(connection, { logger: opts.logger });
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
    disconnect: () => producer.close(),
  };
}
