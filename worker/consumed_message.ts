/**
 * A record as the worker sees it: the parts of a kafkajs message it needs, with its position,
 * so that core logic does not depend on kafkajs.
 */

/** Kafka record headers (kafkajs gives Buffers, which are Uint8Arrays). */
export type RecordHeaders = Record<
  string,
  Uint8Array | string | (Uint8Array | string)[] | undefined
>;

/** One consumed record and where it came from. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  /** The offset, as kafkajs gives it (a decimal string). */
  offset: string;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeaders;
}
