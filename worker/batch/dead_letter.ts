/**
 * Dead letters: records that will never succeed as they are, with the reason in headers.
 *
 * The original key, value and headers are kept untouched (every header in its order, a
 * repeated name with each of its values); the error headers follow them, with Kafka Connect's
 * names where one fits (`__connect.errors.*`), so existing tooling reads them, plus our own for
 * what Connect has no name for (the zod issues). Error headers the record already carried are
 * left out: they would describe another failure, and readers take a name's last value.
 */
import type { Issue } from "../../shared/event.ts";
import type { ConsumedRecord } from "../../shared/kafka/consumer_group.ts";
import { DLQ_HEADERS, isErrorHeader } from "../../shared/dead_letter_headers.ts";
import { type RecordHeaders, textHeader } from "../../shared/record_headers.ts";

export { DLQ_HEADERS, isErrorHeader } from "../../shared/dead_letter_headers.ts";

/**
 * Raised when the dead-letter topic did not acknowledge: nothing is committed, and
 * `decide` (`failure.ts`) has the batch written again.
 */
export class DeadLetterError extends Error {
  override name = "DeadLetterError";
}

/** Why a record was refused: decoding (utf8, json, schema) or the warehouse (write). */
export type DeadLetterStage = "utf8" | "json" | "schema" | "write";

/** The error class name written for each stage. */
export const STAGE_CLASS: Record<DeadLetterStage, string> = {
  utf8: "DecodeError",
  json: "DecodeError",
  schema: "ValidationError",
  write: "WriteError",
};

/** One record to write to the dead-letter topic. */
export interface DeadLetter {
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** The record's headers in order, then the error headers. */
  headers: RecordHeaders;
  stage: DeadLetterStage;
}

/** Where dead letters go. */
export interface DeadLetterSink {
  /**
   * Writes every record, acknowledged by the broker, or throws (then nothing may be committed).
   */
  send(records: readonly DeadLetter[]): Promise<void>;
}

/** Makes the dead letter of `message`: its original bytes and the reason in headers. */
export function toDeadLetter(
  message: ConsumedRecord,
  failure: { stage: DeadLetterStage; reason: string; issues?: readonly Issue[] },
  now: Date,
): DeadLetter {
  const headers = message.headers.filter(([name]) => !isErrorHeader(name));
  const add = (name: string, text: string) => headers.push(textHeader(name, text));
  add(DLQ_HEADERS.topic, message.topic);
  add(DLQ_HEADERS.partition, String(message.partition));
  add(DLQ_HEADERS.offset, String(message.offset));
  add(DLQ_HEADERS.stage, failure.stage);
  add(DLQ_HEADERS.className, STAGE_CLASS[failure.stage]);
  add(DLQ_HEADERS.message, truncate(failure.reason, 4_000));
  const issues = failure.issues ?? [];
  if (issues.length > 0) {
    add(DLQ_HEADERS.issuePaths, issues.map((i) => i.path).join(","));
    add(DLQ_HEADERS.issues, truncate(JSON.stringify(issues), 8_000));
  }
  add(DLQ_HEADERS.time, now.toISOString());
  return { key: message.key, value: message.value, headers, stage: failure.stage };
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
