/**
 * Integration: what validation accepts, the warehouse stores. Rows at the edges of the contract
 * (every text field at its limit in 4-byte characters, timestamps at the ends of years
 * 0001..9999 and with offsets PostgreSQL cannot read) go through `createWarehouseSink` into
 * PostgreSQL of the shared stack, with both staging modes.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { LIMITS, parseUser, type UserInput } from "../shared/event.ts";
import { sharedStack, uniqueName } from "../stack/harness.ts";
import { createPostgresDialect, type Staging } from "./postgres_dialect.ts";
import { testEvent } from "./_test_events.ts";
import { toUserRow } from "./user_row.ts";
import { createWarehouseSink } from "./warehouse_sink.ts";

const astral = (n: number) => "😀".repeat(n);

/** A user the webhook accepts with every text field at its limit in 4-byte characters. */
function largestUser(i: number, dates: Pick<UserInput, "dob" | "registered_date">): UserInput {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    first_name: astral(LIMITS.first_name),
    last_name: astral(LIMITS.last_name),
    gender: astral(LIMITS.gender),
    address: astral(LIMITS.address),
    post_code: astral(LIMITS.post_code),
    email: `${astral(64)}@${astral(LIMITS.email - 65)}`,
    username: astral(LIMITS.username),
    phone: astral(LIMITS.phone),
    picture: `https://${astral(LIMITS.picture - 8)}`,
    ...dates,
  };
}

const DATES: [Pick<UserInput, "dob" | "registered_date">, [string, string]][] = [
  [
    { dob: "0001-01-01T00:00:00Z", registered_date: "9999-12-31T23:59:59.9999999Z" },
    ["0001-01-01T00:00:00.000000", "9999-12-31T23:59:59.999999"],
  ],
  [
    { dob: "2020-01-01T00:00:00+23:59", registered_date: "9999-12-31T23:59:59+23:59" },
    ["2019-12-31T00:01:00.000000", "9999-12-31T00:00:59.000000"],
  ],
  [
    { dob: "0001-01-01T00:30:00-01:00", registered_date: "1990-05-17T23:30:00-16:00" },
    ["0001-01-01T01:30:00.000000", "1990-05-18T15:30:00.000000"],
  ],
];

for (const staging of ["copy", "insert"] as Staging[]) {
  Deno.test(`createWarehouseSink() stores the contract's largest values and extreme timestamps (${staging})`, async () => {
    const env = await sharedStack();
    const schema = uniqueName(`w_edges_${staging}`);
    const sql = postgres(env.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
    try {
      const sink = createWarehouseSink(
        sql,
        createPostgresDialect({ schema, table: "users" }, {
          staging,
        }),
      );
      await sink.ensureTable();
      const users = DATES.map(([dates], i) => parseUser(largestUser(i, dates)));
      await sink.upsert(users.map((u) => toUserRow(testEvent(u, new Date(0)))));
      const rows = await sql.unsafe(
        `SELECT id, first_name, email, picture, address,
           to_char(dob AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS dob,
           to_char(registered_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS registered
         FROM ${schema}.users ORDER BY id`,
      );
      assert.equal(rows.length, users.length);
      rows.forEach((row, i) => {
        const user = users[i]!;
        assert.equal(row.first_name, user.first_name);
        assert.equal(row.email, user.email);
        assert.equal(row.picture, user.picture);
        assert.equal(new TextEncoder().encode(row.address).length, LIMITS.address * 4);
        assert.deepEqual(
          [row.dob, row.registered],
          DATES[i]![1],
          `dates of ${user.id}: ${JSON.stringify([row.dob, row.registered])}`,
        );
      });
    } finally {
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.end();
    }
  });
}
