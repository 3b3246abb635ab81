/**
 * The dead-letter sink on a kafkajs producer: one acknowledged (`acks=all`) send per batch.
 */
import { Buffer } from "node:buffer";
import type { IHeaders, Producer } from "kafkajs";
import { sendAcknowledged } from "../shared/kafka_send.ts";
import type { RecordHeaders } from "./consumed_message.ts";
import type { DeadLetterSink } from "./dead_letter.ts";

/**
 * Creates a dead-letter sink writing to `topic`. It resolves only when Kafka acknowledged every
 * record (`sendAcknowledged`: kafkajs alone can report a write it did not make after a leader
 * change), since the caller commits offsets past these records next.
 */
export function createKafkaDeadLetters(
  producer: Producer,
  topic: string,
  partitionCount: (topic: string) => Promise<number>,
): DeadLetterSink {
  return {
    async send(records) {
      if (records.length === 0) return;
      await sendAcknowledged(
        producer,
        topic,
        records.map((r) => ({
          key: toBuffer(r.key),
          value: toBuffer(r.value),
          headers: toKafkaHeaders(r.headers),
        })),
        await partitionCount(topic),
      );
    },
  };
}

/** Our headers as kafkajs wants them (Buffers or strings). */
export function toKafkaHeaders(headers: RecordHeaders): IHeaders {
  const out: IHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(toHeaderValue) : toHeaderValue(value);
  }
  return out;
}

function toHeaderValue(v: Uint8Array | string): Buffer | string {
  return typeof v === "string" ? v : toBuffer(v)!;
}

function toBuffer(v: Uint8Array | null): Buffer | null {
  if (v === null) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}
