import assert from "node:assert/strict";
import { toUtcTimestamp } from "./utc_timestamp.ts";
import { testEvent, testUser } from "../../testing/users.ts";
import { toUserRow } from "./user_row.ts";

Deno.test("toUtcTimestamp() writes the instant in UTC with a four-digit year", () => {
  const cases: [string, string][] = [
    ["1990-05-17T08:30:00.000Z", "1990-05-17T08:30:00.000Z"],
    ["1990-05-17T10:30:00+02:00", "1990-05-17T08:30:00Z"],
    ["2020-01-01T00:00:00+23:59", "2019-12-31T00:01:00Z"],
    ["0001-01-01T00:30:00-01:00", "0001-01-01T01:30:00Z"],
    ["0001-01-02T00:00:00+23:59", "0001-01-01T00:01:00Z"],
    ["0099-03-01T00:00:00.5Z", "0099-03-01T00:00:00.5Z"],
    ["0099-03-01T00:00:00.5-00:00", "0099-03-01T00:00:00.5Z"],
    ["9999-12-31T23:59:59+23:59", "9999-12-31T00:00:59Z"],
    ["2024-02-29T23:00:00-01:00", "2024-03-01T00:00:00Z"],
  ];
  for (const [input, expected] of cases) assert.equal(toUtcTimestamp(input), expected, input);
});

Deno.test("toUtcTimestamp() cuts fractions to microseconds, so year 9999 cannot round into 10000", () => {
  assert.equal(toUtcTimestamp("9999-12-31T23:59:59.9999999Z"), "9999-12-31T23:59:59.999999Z");
  assert.equal(
    toUtcTimestamp("2000-01-01T00:00:00.123456789+01:00"),
    "1999-12-31T23:00:00.123456Z",
  );
});

Deno.test("toUtcTimestamp() refuses what no warehouse can store instead of writing +010000-…", () => {
  for (
    const s of ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:30:00+01:00"]
  ) {
    assert.throws(() => toUtcTimestamp(s), RangeError, s);
  }
  assert.throws(() => toUtcTimestamp("1990-05-17"), /not RFC 3339/);
});

Deno.test("toUserRow() stages every timestamp in UTC", () => {
  const user = testUser(1, "0000", {
    dob: "1990-05-17T23:30:00-16:00",
    registered_date: "2015-01-02T03:04:05.000Z",
  });
  const row = toUserRow(testEvent(user, new Date("2026-01-01T00:00:00.000Z")));
  assert.equal(row[8], "1990-05-18T15:30:00Z");
  assert.equal(row[9], "2015-01-02T03:04:05.000Z");
  assert.equal(row[14], "2026-01-01T00:00:00.000Z");
  const noDates = toUserRow(
    testEvent(testUser(2, "0000", { dob: null, registered_date: null }), new Date(0)),
  );
  assert.deepEqual([noDates[8], noDates[9]], [null, null]);
});
