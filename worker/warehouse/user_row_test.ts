import assert from "node:assert/strict";
import { testEvent, testUser } from "../../testing/users.ts";
import { EVENT_COLUMNS, eventColumns } from "./table_columns.ts";
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
  assert.equal(row.length, eventColumns(1).length, "a version-1 event sets version 1's columns");
  eventColumns(1).forEach((c, i) => assert.equal(row[i], expected(c.name), c.name));
  assert.equal(row[USER_ID], event.user.id);
  assert.equal(row[EVENT_ID], event.event_id);
  assert.equal(row[EVENT_TIME], toUtcTimestamp(event.accepted_at));
});

Deno.test("toUserRow() of a version-2 event sets nat and cell, null included; of version 1, neither", () => {
  const at = new Date("2026-03-04T05:06:07.891Z");
  const v2 = toUserRow(testEvent(testUser(7, "0000", { nat: "NZ", cell: null }), at));
  assert.equal(v2.length, EVENT_COLUMNS.length);
  assert.deepEqual(v2.slice(-2), ["NZ", null]);
  assert.deepEqual(EVENT_COLUMNS.slice(-2).map((c) => c.name), ["nat", "cell"]);
  const v1 = toUserRow(testEvent(testUser(7), at));
  assert.deepEqual(v1, v2.slice(0, eventColumns(1).length).map((v, i) => i === 13 ? v1[13] : v));
});
