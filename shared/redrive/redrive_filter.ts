/**
 * Which dead letters a re-drive moves, and how a dead letter becomes a topic record again.
 */
import { DLQ_HEADERS, isErrorHeader } from "../dead_letter_headers.ts";
import type { RecordHeaders } from "../record_headers.ts";

/** The header a re-driven record carries: `<dlq topic>/<partition>/<offset>`. */
export const REDRIVEN_FROM_HEADER = "user_pipeline.redriven_from";

/** What to move: everything, or only some stages and/or reasons containing a text. */
export interface RedriveFilter {
  /** Only these stages (empty: all). */
  stages: readonly string[];
  /** Only reasons containing this text, case-insensitive (empty: all). */
  reasonContains: string;
}

/** True when the dead letter with `headers` passes `filter`. */
export function matchesFilter(headers: RecordHeaders, filter: RedriveFilter): boolean {
  const stage = headerText(headers[DLQ_HEADERS.stage]);
  if (filter.stages.length > 0 && !filter.stages.includes(stage)) return false;
  if (filter.reasonContains) {
    const reason = headerText(headers[DLQ_HEADERS.message]).toLowerCase();
    if (!reason.includes(filter.reasonContains.toLowerCase())) return false;
  }
  return true;
}

/** The record's own headers without the error headers, plus where it was re-driven from. */
export function redrivenHeaders(headers: RecordHeaders, from: string): RecordHeaders {
  const out: RecordHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!isErrorHeader(name) && name !== REDRIVEN_FROM_HEADER) out[name] = value;
  }
  out[REDRIVEN_FROM_HEADER] = from;
  return out;
}

/** A stable consumer-group suffix for a filter, so each filter keeps its own progress. */
export function filterSuffix(filter: RedriveFilter): string {
  const parts = [...filter.stages].sort();
  if (filter.reasonContains) parts.push(`reason=${filter.reasonContains}`);
  return parts.length === 0 ? "all" : parts.join(",").replace(/[^a-zA-Z0-9._=,-]/g, "_");
}

const decoder = new TextDecoder();

function headerText(v: RecordHeaders[string]): string {
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined) return "";
  return typeof first === "string" ? first : decoder.decode(first);
}
