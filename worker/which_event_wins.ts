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
 *
 * One exception keeps the result what writing the records one by one would give: a newer row
 * of an older event version (a shorter row: it leaves the newer version's columns alone) does
 * not supersede an older row that sets more columns. Both are kept, the older one in an
 * earlier round: `rounds[0]` holds one item per id, `rounds[1]` the next item of the ids that
 * have one, and so on. Written round after round, with the warehouse's newer-wins rule, the
 * newer row sets its columns and the older one's extra columns stay. Usually there is one
 * round.
 */
export function dedupeLatest<T extends HasRow>(
  items: readonly T[],
): { kept: T[]; rounds: T[][]; superseded: T[] } {
  const byId = new Map<string, T>();
  const superseded: T[] = [];
  let widths = false;
  for (const item of items) {
    const id = item.row[USER_ID]!;
    const current = byId.get(id);
    if (current === undefined) {
      byId.set(id, item);
    } else {
      if (current.row.length !== item.row.length) widths = true;
      if (isNewerRow(current.row, item.row)) {
        superseded.push(item);
      } else {
        byId.set(id, item);
        superseded.push(current);
      }
    }
  }
  const kept = [...byId.values()];
  if (!widths) return { kept, rounds: [kept], superseded };
  return withWiderOlderRows(kept, superseded);
}

/**
 * `kept` (the newest item per id) plus, per id, the newest superseded item of each width
 * wider than every newer item kept, in rounds from the oldest.
 */
function withWiderOlderRows<T extends HasRow>(
  kept: T[],
  superseded: T[],
): { kept: T[]; rounds: T[][]; superseded: T[] } {
  const older = new Map<string, T[]>();
  for (const item of superseded) {
    const id = item.row[USER_ID]!;
    const list = older.get(id);
    if (list) list.push(item);
    else older.set(id, [item]);
  }
  const dropped: T[] = [];
  const chains = kept.map((newest) => {
    const chain = [newest];
    const candidates = (older.get(newest.row[USER_ID]!) ?? [])
      .sort((a, b) => isNewerRow(a.row, b.row) ? -1 : isNewerRow(b.row, a.row) ? 1 : 0);
    let width = newest.row.length;
    for (const item of candidates) {
      if (item.row.length > width) {
        chain.unshift(item);
        width = item.row.length;
      } else dropped.push(item);
    }
    return chain;
  });
  const rounds: T[][] = [];
  for (const chain of chains) {
    chain.forEach((item, i) => (rounds[i] ??= []).push(item));
  }
  return { kept: chains.flat(), rounds, superseded: dropped };
}

/**
 * `isNewerRow` in SQL, for both dialects' merge: `stage`'s row is newer than `target`'s.
 */
export function newerThan(stage: string, target: string): string {
  return `(${stage}.event_time > ${target}.event_time OR ` +
    `(${stage}.event_time = ${target}.event_time AND ${stage}.event_id > ${target}.event_id))`;
}
