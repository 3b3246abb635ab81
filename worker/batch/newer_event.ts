/**
 * The one ordering rule between two events for the same user, shared by the in-batch dedupe
 * and (as SQL) by both dialects' merge: the later `accepted_at` (the row's `event_time`) wins;
 * on equal times the greater `event_id` wins, so that the outcome does not depend on delivery
 * order; the same event is never newer than itself, so re-delivery changes nothing.
 */
import { EVENT_ID, EVENT_TIME, type UserRow } from "../warehouse/user_row.ts";

/** True when row `a` should replace row `b` in the warehouse. */
export function isNewerRow(a: UserRow, b: UserRow): boolean {
  const ta = Date.parse(a[EVENT_TIME]!);
  const tb = Date.parse(b[EVENT_TIME]!);
  if (ta !== tb) return ta > tb;
  return a[EVENT_ID]! > b[EVENT_ID]!;
}
