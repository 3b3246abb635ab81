/**
 * The dead-letter sink on our Kafka producer: one acknowledged (acks=all) send per batch,
 * since the caller commits offsets past these records next.
 */
import type { KafkaProducer } from "../../shared/kafka/producer.ts";
import type { RecordHeaders } from "./consumed_message.ts";
import type { DeadLetterSink } from "../batch/dead_letter.ts";

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

/** Our headers as single values (a repeated header keeps its last value). */
export function flatHeaders(headers: RecordHeaders): Record<string, string | Uint8Array> {
  const out: Record<string, string | Uint8Array> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value.at(-1) : value;
    if (last !== undefined) out[name] = last;
  }
  return out;
}
