/**
 * Collapses several records for one user inside a batch to the one the warehouse keeps.
 *
 * `MERGE` fails when its source has two rows for one key, so a batch must be collapsed first.
 * The survivor is chosen with `isNewerRow`, the same rule the merge applies across batches;
 * for an in-order stream that is the latest offset. Between records that tie (the same event
 * delivered twice) the latest offset wins.
 */
import { isNewerRow } from "./newer_event.ts";
import { USER_ID, type UserRow } from "../warehouse/user_row.ts";

/** What `dedupeLatest` needs of an item: its row (items are given in offset order). */
export interface HasRow {
  row: UserRow;
}

/**
 * Returns one item per user id, in first-seen order, and the items it dropped.
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
