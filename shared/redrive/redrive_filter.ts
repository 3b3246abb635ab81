/**
 * Which dead letters a re-drive moves, and how a dead letter becomes a topic record again.
 */
import { DLQ_HEADERS, isErrorHeader } from "../dead_letter_headers.ts";
import { headerText, type RecordHeaders, textHeader } from "../record_headers.ts";

/** The header a re-driven record carries: `<dlq topic>/<partition>/<offset>`. */
export const REDRIVEN_FROM_HEADER = "user_pipeline.redriven_from";

/**
 * What to move: everything, or only some stages and/or reasons containing a text; the console
 * also names one reason exactly (a group of dead letters) or single dead letters.
 */
export interface RedriveFilter {
  /** Only these stages (empty: all). */
  stages: readonly string[];
  /** Only reasons containing this text, case-insensitive (empty: all). */
  reasonContains: string;
  /** Only this exact reason. */
  reasonIs?: string;
  /** Only the dead letters at these `partition/offset`s of the dead-letter topic. */
  records?: readonly string[];
}

/**
 * True when the dead letter with `headers`, at `at` (`partition/offset` of the dead-letter
 * topic), passes `filter`.
 */
export function matchesFilter(
  headers: RecordHeaders,
  filter: RedriveFilter,
  at?: string,
): boolean {
  const stage = headerText(headers, DLQ_HEADERS.stage) ?? "";
  if (filter.stages.length > 0 && !filter.stages.includes(stage)) return false;
  if (filter.reasonContains) {
    const reason = (headerText(headers, DLQ_HEADERS.message) ?? "").toLowerCase();
    if (!reason.includes(filter.reasonContains.toLowerCase())) return false;
  }
  if (filter.reasonIs !== undefined) {
    if ((headerText(headers, DLQ_HEADERS.message) ?? "") !== filter.reasonIs) return false;
  }
  if (filter.records !== undefined && (at === undefined || !filter.records.includes(at))) {
    return false;
  }
  return true;
}

/**
 * The record's own headers as they were (in order, repeated names with every value), without
 * the error headers and an earlier `REDRIVEN_FROM_HEADER`, then where it was re-driven from.
 */
export function redrivenHeaders(headers: RecordHeaders, from: string): RecordHeaders {
  const out = headers.filter(([name]) => !isErrorHeader(name) && name !== REDRIVEN_FROM_HEADER);
  out.push(textHeader(REDRIVEN_FROM_HEADER, from));
  return out;
}

/** A stable consumer-group suffix for a filter, so each filter keeps its own progress. */
export function filterSuffix(filter: RedriveFilter): string {
  const parts = [...filter.stages].sort();
  if (filter.reasonContains) parts.push(`reason=${filter.reasonContains}`);
  // An exact reason can be 4,000 characters: its hash names it.
  if (filter.reasonIs !== undefined) parts.push(`reason_is=${fnv1a(filter.reasonIs)}`);
  if (filter.records !== undefined) {
    parts.push(`records=${fnv1a([...filter.records].sort().join(" "))}`);
  }
  return parts.length === 0 ? "all" : parts.join(",").replace(/[^a-zA-Z0-9._=,-]/g, "_");
}

/** The consumer group of a re-drive with `filter`: `<KAFKA_GROUP_ID>-redrive-<suffix>`. */
export function redriveGroupId(workerGroupId: string, filter: RedriveFilter): string {
  return `${workerGroupId}-redrive-${filterSuffix(filter)}`;
}

/** FNV-1a, 32 bits, as 8 hex digits: a short stable name for a long text. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}
