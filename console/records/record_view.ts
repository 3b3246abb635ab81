/**
 * A Kafka record as the page sees it: its position, time, key, headers and value, each made
 * safe and cut on the server (`safeText`), so that the page only ever receives bounded, inert
 * text.
 */
import type { ReadRecord } from "../sources/kafka_source.ts";
import { type SafeText, safeText } from "./safe_text.ts";
import { headerText as lastHeaderText } from "../../shared/record_headers.ts";

/** Limits of what one record shows, in code points. */
export const VIEW_LIMITS = { key: 256, headerName: 128, headerValue: 2_048, value: 16_384 };

/** One record, ready for the page. */
export interface RecordView {
  partition: number;
  offset: string;
  /** The record's timestamp (ISO-8601). */
  timestamp: string;
  key: SafeText;
  headers: { name: SafeText; value: SafeText }[];
  value: SafeText;
}

/** Most headers shown per record. */
const MAX_HEADERS = 64;

/** The view of `record`. */
export function recordView(record: ReadRecord): RecordView {
  return {
    partition: record.partition,
    offset: String(record.offset),
    timestamp: isoTime(record.timestamp),
    key: safeText(record.key, VIEW_LIMITS.key),
    headers: record.headers.slice(0, MAX_HEADERS).map(([name, value]) => ({
      name: safeText(name, VIEW_LIMITS.headerName),
      value: safeText(value, VIEW_LIMITS.headerValue),
    })),
    value: safeText(record.value, VIEW_LIMITS.value),
  };
}

/** A header's value as text (the last one of a repeated name), or undefined. */
export function headerText(record: ReadRecord, name: string): string | undefined {
  return lastHeaderText(record.headers, name);
}

function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}
