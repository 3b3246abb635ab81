/**
 * A dead letter as the console keeps it: where it sits on the dead-letter topic, when and why
 * it was refused (the headers `worker/batch/dead_letter.ts` writes), and where it came from.
 */
import { DLQ_HEADERS } from "../../shared/dead_letter_headers.ts";
import { headerText } from "../records/record_view.ts";
import type { ReadRecord } from "../sources/kafka_source.ts";

/** One dead letter. */
export interface DeadLetterInfo {
  /** Its partition and offset on the dead-letter topic. */
  partition: number;
  offset: bigint;
  /** When it was dead-lettered, ms since the epoch (the header, else the record's timestamp). */
  time: number;
  /** `utf8`, `json`, `schema`, `write` (or what another writer put there). */
  stage: string;
  /** The reason, as written (up to 4,000 characters). */
  reason: string;
  /** The record it was: topic, partition, offset (as the headers say). */
  origin: { topic: string; partition: number | null; offset: string };
}

/**
 * The dead letter of a record read from the dead-letter topic: its headers' facts only, not its
 * key and value (a value can be a megabyte; a page reads its 20 records again when shown).
 */
export function deadLetterOf(record: ReadRecord): DeadLetterInfo {
  const time = Date.parse(headerText(record, DLQ_HEADERS.time) ?? "");
  const partition = Number(headerText(record, DLQ_HEADERS.partition));
  return {
    partition: record.partition,
    offset: record.offset,
    time: Number.isNaN(time) ? record.timestamp : time,
    stage: headerText(record, DLQ_HEADERS.stage) ?? "(none)",
    reason: headerText(record, DLQ_HEADERS.message) ?? "(no reason)",
    origin: {
      topic: headerText(record, DLQ_HEADERS.topic) ?? "",
      partition: Number.isInteger(partition) ? partition : null,
      offset: headerText(record, DLQ_HEADERS.offset) ?? "",
    },
  };
}
