/**
 * A record as the worker sees it: the parts of a Kafka record it needs, with its position, so
 * that core logic does not depend on the Kafka client.
 */

import type { RecordHeaders } from "../../shared/record_headers.ts";

export type { RecordHeaders };

/** One consumed record and where it came from. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  /** The offset, as a decimal string. */
  offset: string;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeaders;
}
