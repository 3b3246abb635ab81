/**
 * The dead-letter sink on our Kafka producer: one acknowledged (acks=all) send per batch,
 * since the caller commits offsets past these records next.
 */
import type { KafkaProducer } from "../../shared/kafka/producer.ts";
import type { DeadLetterSink } from "./dead_letter.ts";

/** Creates a dead-letter sink writing to `topic`. */
export function createKafkaDeadLetters(producer: KafkaProducer, topic: string): DeadLetterSink {
  return {
    async send(records) {
      if (records.length === 0) return;
      await producer.send(
        topic,
        records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      );
    },
  };
}
