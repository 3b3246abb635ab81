/**
 * Which event wins: the one ordering rule between two events for the same user, in all three
 * places it is applied.
 *
 * - `isNewerRow`: the later `accepted_at` (the row's `event_time`) wins; on equal times the
 *   greater `event_id` wins, so that the outcome does not depend on delivery order; the same
 *   event is never newer than itself, so re-delivery changes nothing.
 * - `dedupeLatest`: a batch keeps one row per user id, chosen by that rule (`MERGE` fails
 *   when its source has two rows for one key).
 * - `newerThan`: the same rule in SQL, the `WHEN MATCHED` condition of both dialects' merge,
 *   so a batch never overwrites a newer row with an older one. `date_added` is written once,
 *   by the merge's `INSERT` branch, and never updated.
 */
import { EVENT_ID, EVENT_TIME, USER_ID, type UserRow } from "./warehouse/user_row.ts";

/** True when row `a` should replace row `b` in the warehouse. */
export function isNewerRow(a: UserRow, b: UserRow): boolean {
  const ta = Date.parse(a[EVENT_TIME]!);
  const tb = Date.parse(b[EVENT_TIME]!);
  if (ta !== tb) return ta > tb;
  return a[EVENT_ID]! > b[EVENT_ID]!;
}

/** What `dedupeLatest` needs of an item: its row (items are given in offset order). */
export interface HasRow {
  row: UserRow;
}

/**
 * Collapses several records for one user inside a batch to the one the warehouse keeps: for an
 * in-order stream that is the latest offset; between records that tie (the same event
 * delivered twice) the latest offset wins. Returns one item per user id, in first-seen order, and the items it dropped.
 * `items` must be in offset order.
 */
export function dedupeLatest<T extends HasRow>(
  items: readonly T[],
): { kept: T[]; superseded: T[] } {
  const byId = new Map<string, T>();
  const superseded: T[] = [];
  for (const item of items) {
    const id = item.row[USER_ID]!;
    const current = byId.get(id);
    if (current === undefined) {
      byId.set(id, item);
    } else if (isNewerRow(current.row, item.row)) {
      superseded.push(item);
    } else {
      byId.set(id, item);
      superseded.push(current);
    }
  }
  return { kept: [...byId.values()], superseded };
}

/**
 * `isNewerRow` in SQL, for both dialects' merge: `stage`'s row is newer than `target`'s.
 */
export function newerThan(stage: string, target: string): string {
  return `(${stage}.event_time > ${target}.event_time OR ` +
    `(${stage}.event_time = ${target}.event_time AND ${stage}.event_id > ${target}.event_id))`;
}
