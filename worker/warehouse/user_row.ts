/**
 * A warehouse row made from one event: the values of `EVENT_COLUMNS`, in order.
 */
import type { UserEvent } from "../../shared/event.ts";
import { EVENT_COLUMNS } from "./table_columns.ts";
import { toUtcTimestamp } from "./utc_timestamp.ts";

/**
 * The staged values of one row, in `EVENT_COLUMNS` order (timestamps as ISO-8601 text in UTC,
 * see `toUtcTimestamp`).
 */
export type UserRow = readonly (string | null)[];

/**
 * Turns a validated event into the row it writes.
 * @throws {RangeError} for a timestamp the warehouse cannot store (validation refuses it first).
 */
export function toUserRow(event: UserEvent): UserRow {
  const u = event.user;
  return [
    u.id,
    u.first_name,
    u.last_name,
    u.gender,
    u.address,
    u.post_code,
    u.email,
    u.username,
    u.dob === null ? null : toUtcTimestamp(u.dob),
    u.registered_date === null ? null : toUtcTimestamp(u.registered_date),
    u.phone,
    u.picture,
    event.source,
    event.event_id,
    toUtcTimestamp(event.accepted_at),
  ];
}

/** The index of column `name` in a row; fails at load time if the column list lost it. */
function indexOf(name: string): number {
  const i = EVENT_COLUMNS.findIndex((c) => c.name === name);
  if (i < 0) throw new Error(`EVENT_COLUMNS has no column ${name}`);
  return i;
}

/** Index of `id` in a row. */
export const USER_ID = indexOf("id");
/** Index of `event_id` in a row. */
export const EVENT_ID = indexOf("event_id");
/** Index of `event_time` in a row. */
export const EVENT_TIME = indexOf("event_time");
