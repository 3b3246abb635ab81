/**
 * A warehouse row made from one event: the values of the event columns its version knows
 * (`eventColumns(event.schema_version)`), in order.
 */
import type { User, UserEvent } from "../../shared/event.ts";
import { EVENT_COLUMNS } from "./table_columns.ts";
import { toUtcTimestamp } from "./utc_timestamp.ts";

/**
 * The staged values of one row, in `EVENT_COLUMNS` order (timestamps as ISO-8601 text in UTC,
 * see `toUtcTimestamp`). Its length says which columns it sets: a row of an older version is
 * shorter and leaves the newer columns as they are (absent is not null).
 */
export type UserRow = readonly (string | null)[];

/** The user fields added after version 1, in column order, with the version of each. */
const LATER_FIELDS = EVENT_COLUMNS.filter((c) => c.since > 1).map((c) => ({
  name: c.name as keyof User,
  since: c.since,
}));

/**
 * Turns a validated event into the row it writes.
 * @throws {RangeError} for a timestamp the warehouse cannot store (validation refuses it first).
 */
export function toUserRow(event: UserEvent): UserRow {
  const u = event.user;
  const row = [
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
  for (const f of LATER_FIELDS) {
    if (f.since > event.schema_version) break;
    row.push((u[f.name] as string | null | undefined) ?? null);
  }
  return row;
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
