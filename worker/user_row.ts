/**
 * A warehouse row made from one event: the values of `EVENT_COLUMNS`, in order.
 */
import type { UserEvent } from "../shared/event.ts";

/** The staged values of one row, in `EVENT_COLUMNS` order (timestamps as ISO-8601 text). */
export type UserRow = readonly (string | null)[];

/** Turns a validated event into the row it writes. */
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
    u.dob,
    u.registered_date,
    u.phone,
    u.picture,
    event.source,
    event.event_id,
    event.accepted_at,
  ];
}

/** Index of `id` in a row. */
export const USER_ID = 0;
/** Index of `event_id` in a row. */
export const EVENT_ID = 13;
/** Index of `event_time` in a row. */
export const EVENT_TIME = 14;
