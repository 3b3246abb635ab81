/**
 * The ports the produce stage offers: `Producer`, what the batcher sends through, and
 * `KafkaProducer`, what the program connects at start (on this thread, `kafka_producer.ts`, or
 * on its own, `thread_producer.ts`); tests use the fake in `testing/fakes.ts`.
 */

/** One Kafka record as the ingest produces it. */
export interface OutgoingMessage {
  key: string;
  value: Uint8Array;
  headers?: Record<string, string>;
}

/** The small producer interface the batcher needs: resolves when Kafka acknowledged all. */
export interface Producer {
  send(messages: OutgoingMessage[]): Promise<void>;
}

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
