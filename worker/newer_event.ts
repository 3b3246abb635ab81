/**
 * The one ordering rule between two events for the same user, shared by the in-batch dedupe
 * and (as SQL) by both dialects' merge: the later `accepted_at` wins; on equal times the
 * greater `event_id` wins, so that the outcome does not depend on delivery order; the same
 * event is never newer than itself, so re-delivery changes nothing.
 */
import type { UserEvent } from "../shared/event.ts";

/** True when `a` should replace `b` in the warehouse. */
export function isNewerEvent(a: UserEvent, b: UserEvent): boolean {
  const ta = Date.parse(a.accepted_at);
  const tb = Date.parse(b.accepted_at);
  if (ta !== tb) return ta > tb;
  return a.event_id > b.event_id;
}
