import assert from "node:assert/strict";
import { testEvent, testUser } from "../../testing/users.ts";
import { EVENT_COLUMNS } from "./table_columns.ts";
import { EVENT_ID, EVENT_TIME, toUserRow, USER_ID } from "./user_row.ts";
import { toUtcTimestamp } from "./utc_timestamp.ts";

Deno.test("toUserRow() puts every value in the column of its name, and the indexes follow", () => {
  const event = testEvent(testUser(7), new Date("2026-03-04T05:06:07.891Z"));
  const row = toUserRow(event);
  const user = event.user as unknown as Record<string, string | null>;
  const expected = (name: string): string | null => {
    if (name === "event_time") return toUtcTimestamp(event.accepted_at);
    if (name === "source" || name === "event_id") return event[name];
    const v = user[name] ?? null;
    return v !== null && (name === "dob" || name === "registered_date") ? toUtcTimestamp(v) : v;
  };
  assert.equal(row.length, EVENT_COLUMNS.length);
  EVENT_COLUMNS.forEach((c, i) => assert.equal(row[i], expected(c.name), c.name));
  assert.equal(row[USER_ID], event.user.id);
  assert.equal(row[EVENT_ID], event.event_id);
  assert.equal(row[EVENT_TIME], toUtcTimestamp(event.accepted_at));
});
