/**
 * Dead letters: records that will never succeed as they are, with the reason in headers.
 *
 * The original key, value and headers are kept untouched; the error headers use Kafka
 * Connect's names where one fits (`__connect.errors.*`), so existing tooling reads them, plus
 * our own for what Connect has no name for (the zod issues).
 */
import type { Issue } from "../../shared/event.ts";
import type { ConsumedMessage, RecordHeaders } from "../consume/consumed_message.ts";
import { DLQ_HEADERS } from "../../shared/dead_letter_headers.ts";

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
  message: ConsumedMessage,
  failure: { stage: DeadLetterStage; reason: string; issues?: readonly Issue[] },
  now: Date,
): DeadLetter {
  const headers: RecordHeaders = { ...message.headers };
  headers[DLQ_HEADERS.topic] = message.topic;
  headers[DLQ_HEADERS.partition] = String(message.partition);
  headers[DLQ_HEADERS.offset] = message.offset;
  headers[DLQ_HEADERS.stage] = failure.stage;
  headers[DLQ_HEADERS.className] = STAGE_CLASS[failure.stage];
  headers[DLQ_HEADERS.message] = truncate(failure.reason, 4_000);
  const issues = failure.issues ?? [];
  if (issues.length > 0) {
    headers[DLQ_HEADERS.issuePaths] = issues.map((i) => i.path).join(",");
    headers[DLQ_HEADERS.issues] = truncate(JSON.stringify(issues), 8_000);
  }
  headers[DLQ_HEADERS.time] = now.toISOString();
  return { key: message.key, value: message.value, headers, stage: failure.stage };
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
