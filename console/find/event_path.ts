/**
 * The path of one accepted event: exactly one of written, superseded, dead-lettered or not yet
 * written, decided from what the console found (pure, so every case is tested without Kafka).
 *
 * - **dead-lettered**: a dead letter names this record (topic, partition, offset); re-driven when
 *   a later record of the topic names that dead letter in `user_pipeline.redriven_from` (the
 *   header the re-drive adds), with where that copy is.
 * - **not yet written**: the workers' committed offset of its partition is not past it; the
 *   answer says by how many records.
 * - **written**: committed past it, and the user's row carries this event's id.
 * - **superseded**: committed past it, and the row carries a newer event (later `accepted_at`,
 *   or the same time and a greater event id: the worker's rule, `worker/which_event_wins.ts`).
 * - **unknown**, when the evidence is missing (no warehouse configured, no row, a row older than
 *   the event, a dead letter beyond what was searched): said as such, never guessed.
 */
import type { WarehouseRow } from "../sources/warehouse_source.ts";

/** Where an accepted event is. */
export type EventPath =
  | { kind: "written"; date_added: string; updated_at: string }
  | { kind: "superseded"; by: { event_id: string; source: string; event_time: string } }
  | {
    kind: "dead-lettered";
    stage: string;
    reason: string;
    partition: number;
    offset: string;
    /** The re-driven copy on the topic, or null: none among the records read. */
    redriven: { partition: number; offset: string } | null;
  }
  | { kind: "waiting"; committed: string | null; recordsAhead: number }
  | { kind: "unknown"; why: string };

/** What is known of one accepted record. */
export interface PathEvidence {
  offset: bigint;
  /** The envelope's event id and time, when the value is a valid event. */
  eventId?: string;
  acceptedAt?: string;
  /** The workers' committed offset of the record's partition (undefined: none). */
  committed: bigint | undefined;
  deadLetter?: {
    stage: string;
    reason: string;
    partition: number;
    offset: bigint;
    /** The topic record that re-drove it, when one was read. */
    redrivenTo?: { partition: number; offset: bigint };
  };
  /** Whether the warehouse was asked (false: not configured). */
  warehouseAsked: boolean;
  row?: WarehouseRow;
}

/** Decides the path from the evidence. */
export function eventPath(e: PathEvidence): EventPath {
  if (e.deadLetter) {
    return {
      kind: "dead-lettered",
      stage: e.deadLetter.stage,
      reason: e.deadLetter.reason,
      partition: e.deadLetter.partition,
      offset: String(e.deadLetter.offset),
      redriven: e.deadLetter.redrivenTo
        ? {
          partition: e.deadLetter.redrivenTo.partition,
          offset: String(e.deadLetter.redrivenTo.offset),
        }
        : null,
    };
  }
  if (e.committed === undefined || e.offset >= e.committed) {
    return {
      kind: "waiting",
      committed: e.committed === undefined ? null : String(e.committed),
      // The records of the partition the workers still have to write before this one.
      recordsAhead: e.committed === undefined ? Number(e.offset) : Number(e.offset - e.committed),
    };
  }
  if (e.eventId === undefined) {
    return { kind: "unknown", why: "committed, but not a valid event and no dead letter found" };
  }
  if (!e.warehouseAsked) {
    return { kind: "unknown", why: "committed; no CONSOLE_WAREHOUSE_URL to look for its row" };
  }
  if (!e.row) {
    return {
      kind: "unknown",
      why: "committed, but the user has no row and no dead letter was found",
    };
  }
  if (e.row.event_id === e.eventId) {
    return { kind: "written", date_added: e.row.date_added, updated_at: e.row.updated_at };
  }
  const rowTime = Date.parse(e.row.event_time);
  const eventTime = Date.parse(e.acceptedAt ?? "");
  const rowIsNewer = rowTime > eventTime || (rowTime === eventTime && e.row.event_id > e.eventId);
  if (rowIsNewer) {
    return {
      kind: "superseded",
      by: { event_id: e.row.event_id, source: e.row.source, event_time: e.row.event_time },
    };
  }
  return { kind: "unknown", why: "committed, but the user's row holds an older event" };
}
