/**
 * The dead-letter sink on our Kafka producer: one acknowledged (acks=all) send per batch,
 * since the caller commits offsets past these records next.
 */
import type { KafkaProducer } from "../../shared/kafka/producer.ts";
import { flatHeaders } from "../../shared/record_headers.ts";
import type { DeadLetterSink } from "../batch/dead_letter.ts";

export { flatHeaders };

/** Creates a dead-letter sink writing to `topic`. */
export function createKafkaDeadLetters(producer: KafkaProducer, topic: string): DeadLetterSink {
  return {
    async send(records) {
      if (records.length === 0) return;
      await producer.send(
        topic,
        records.map((r) => ({ key: r.key, value: r.value, headers: flatHeaders(r.headers) })),
      );
    },
  };
}
