/**
 * Integration: what validation accepts, the warehouse stores. Rows at the edges of the contract
 * (every text field at its limit in 4-byte characters, timestamps at the ends of years
 * 0001..9999 and with offsets PostgreSQL cannot read) go through `createWarehouseSink` into
 * PostgreSQL of the shared stack, with every staging mode (`auto` merges small batches from VALUES).
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { LIMITS, parseUser, type UserInput } from "../../shared/event.ts";
import { sharedStack, uniqueName } from "../../stack/harness.ts";
import { createPostgresDialect, type Staging } from "./postgres_dialect.ts";
import { testEvent, testUser } from "../../testing/users.ts";
import { toUserRow } from "./user_row.ts";
import { createWarehouseSink } from "./sink.ts";
import type { Dialect, SqlStep } from "./dialect.ts";
import type { ObjectStaging } from "./s3_staging.ts";
import { S3Error } from "./s3_client.ts";
import { WriteError } from "./write_error.ts";

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

for (const staging of ["copy", "insert", "auto"] as Staging[]) {
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

/** A dialect that returns `steps` as they are (their SQL runs on PostgreSQL). */
function scripted(steps: (schema: string) => SqlStep[], schema: string): Dialect {
  return {
    name: "redshift",
    createTable: () => [],
    describeColumns: () => {
      throw new Error("not used");
    },
    addColumn: () => {
      throw new Error("not used");
    },
    upsert: () => steps(schema),
  };
}

/** A staging that records what happens, and what another connection sees at that moment. */
function recordingStaging(seen: () => Promise<string>, failUpload = false) {
  const events: string[] = [];
  const staging: ObjectStaging = {
    async upload(objects) {
      events.push(`upload ${objects.keyPrefix} ${objects.rows.length} rows; sees ${await seen()}`);
      if (failUpload) {
        throw new S3Error("Cannot upload s3://b/k: HTTP 503 SlowDown", 503, "SlowDown");
      }
      return [`${objects.keyPrefix}part-00000.csv.gz`];
    },
    async remove(keys) {
      events.push(`remove ${keys.join(",")}; sees ${await seen()}`);
    },
  };
  return { staging, events };
}

const ROW = toUserRow(testEvent(parseUser(largestUser(1, DATES[0]![0])), new Date(0)));

Deno.test("createWarehouseSink() uploads before the first transaction, commits each, removes the objects after", async () => {
  const env = await sharedStack();
  const schema = uniqueName("w_sink_load");
  const sql = postgres(env.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
  const other = postgres(env.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE SCHEMA ${schema}`);
    await sql.unsafe(`CREATE TABLE ${schema}.t (step text)`);
    const seen = async () =>
      (await other.unsafe(`SELECT string_agg(step, ',' ORDER BY step) AS s FROM ${schema}.t`))[0]!
        .s ?? "nothing";
    const { staging, events } = recordingStaging(seen);
    const sink = createWarehouseSink(
      sql,
      scripted((s) => [
        { kind: "query", text: `INSERT INTO ${s}.t VALUES ('1 staged')`, params: [] },
        // Stands in for COPY … FROM 's3://…': a statement PostgreSQL can run.
        {
          kind: "load",
          text: `INSERT INTO ${s}.t VALUES ('2 loaded')`,
          objects: { keyPrefix: "staging/w1/", rows: [ROW], trailing: [] },
        },
        { kind: "commit", text: "COMMIT" },
        { kind: "query", text: `INSERT INTO ${s}.t VALUES ($1)`, params: ["3 merged"] },
      ], schema),
      { staging },
    );
    await sink.upsert([ROW]);
    assert.deepEqual(events, [
      "upload staging/w1/ 1 rows; sees nothing",
      "remove staging/w1/part-00000.csv.gz; sees 1 staged,2 loaded,3 merged",
    ]);
  } finally {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.end();
    await other.end();
  }
});

Deno.test("createWarehouseSink() runs committed undo steps when a later transaction fails, and still removes the objects", async () => {
  const env = await sharedStack();
  const schema = uniqueName("w_sink_undo");
  const sql = postgres(env.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE SCHEMA ${schema}`);
    const stageExists = async () =>
      (await sql`SELECT to_regclass(${`${schema}.stage`}) IS NOT NULL AS e`)[0]!.e
        ? "stage"
        : "no stage";
    const { staging, events } = recordingStaging(stageExists);
    const sink = createWarehouseSink(
      sql,
      scripted((s) => [
        { kind: "query", text: `CREATE TABLE ${s}.stage (x int)`, params: [] },
        { kind: "undo", text: `DROP TABLE ${s}.stage` },
        {
          kind: "load",
          text: `INSERT INTO ${s}.stage VALUES (1)`,
          objects: { keyPrefix: "staging/w2/", rows: [ROW], trailing: [] },
        },
        { kind: "commit", text: "COMMIT" },
        { kind: "query", text: `SELECT 1 / (x - 1) FROM ${s}.stage`, params: [] },
      ], schema),
      { staging },
    );
    const err = await sink.upsert([ROW]).catch((e) => e);
    assert.ok(err instanceof WriteError, String(err));
    assert.equal(err.code, "22012", "division by zero");
    assert.equal(err.action, "isolate");
    assert.deepEqual(events, [
      "upload staging/w2/ 1 rows; sees no stage",
      "remove staging/w2/part-00000.csv.gz; sees no stage",
    ]);
  } finally {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.end();
  }
});

Deno.test("createWarehouseSink() turns a failed upload into a retriable WriteError and runs no SQL", async () => {
  const env = await sharedStack();
  const schema = uniqueName("w_sink_s3down");
  const sql = postgres(env.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
  try {
    const { staging, events } = recordingStaging(() => Promise.resolve("-"), true);
    const sink = createWarehouseSink(
      sql,
      scripted((s) => [
        { kind: "query", text: `CREATE SCHEMA ${s}`, params: [] },
        {
          kind: "load",
          text: "SELECT 1",
          objects: { keyPrefix: "staging/w3/", rows: [ROW], trailing: [] },
        },
      ], schema),
      { staging },
    );
    const err = await sink.upsert([ROW]).catch((e) => e);
    assert.ok(err instanceof WriteError, String(err));
    assert.equal(err.action, "retry", "S3 being down is never about the rows");
    assert.equal(err.message, "Cannot upload s3://b/k: HTTP 503 SlowDown");
    assert.deepEqual(events, ["upload staging/w3/ 1 rows; sees -"], "nothing uploaded to remove");
    const found = await sql`SELECT 1 FROM pg_namespace WHERE nspname = ${schema}`;
    assert.equal(found.length, 0, "no SQL ran");
  } finally {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.end();
  }
});

Deno.test("createWarehouseSink().ensureTable() succeeds when several workers create the table at once", async () => {
  const stack = await sharedStack();
  const schema = uniqueName("w_race");
  const clients = Array.from(
    { length: 12 },
    () => postgres(stack.WAREHOUSE_URL, { max: 1, onnotice: () => {} }),
  );
  try {
    const dialect = createPostgresDialect({ schema, table: "users" });
    const results = await Promise.allSettled(
      clients.map((sql) => createWarehouseSink(sql, dialect).ensureTable()),
    );
    assert.deepEqual(
      results.map((r) => r.status === "fulfilled" ? "fulfilled" : String(r.reason)),
      Array(12).fill("fulfilled"),
    );
  } finally {
    await clients[0]!.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await Promise.all(clients.map((sql) => sql.end()));
  }
});

for (const [staging, rows] of [["auto", 50], ["copy", 400]] as [Staging, number][]) {
  Deno.test(`createWarehouseSink() lets several workers write the same new users at once, and the newest event wins (${staging}, ${rows} rows)`, async () => {
    // A rebalance overlaps the old owner's last flush with the new owner's first: both write
    // the same users. Neither may fail, and the row kept is the newest event's.
    const stack = await sharedStack();
    const schema = uniqueName(`w_overlap_${staging}`);
    const writers = 4;
    const clients = Array.from(
      { length: writers },
      () => postgres(stack.WAREHOUSE_URL, { max: 1, onnotice: () => {} }),
    );
    try {
      const dialect = createPostgresDialect({ schema, table: "users" }, { staging });
      await createWarehouseSink(clients[0]!, dialect).ensureTable();
      const sinks = clients.map((sql) => createWarehouseSink(sql, dialect));
      for (let round = 0; round < 5; round++) {
        const users = Array.from({ length: rows }, (_, i) => testUser(round * rows + i, "0007"));
        const results = await Promise.allSettled(
          sinks.map((sink, w) =>
            sink.upsert(
              users.map((u) => toUserRow(testEvent(u, new Date(Date.UTC(2026, 0, 1, 0, 0, w))))),
            )
          ),
        );
        assert.deepEqual(
          results.map((r) => r.status === "fulfilled" ? "fulfilled" : String(r.reason)),
          Array(writers).fill("fulfilled"),
          `round ${round}`,
        );
      }
      const [row] = await clients[0]!.unsafe(
        `SELECT count(*)::int AS n, min(event_time) = max(event_time) AS same,
           max(event_time) = '2026-01-01T00:00:0${writers - 1}Z'::timestamptz AS newest
         FROM ${schema}.users`,
      );
      assert.deepEqual({ ...row }, { n: rows * 5, same: true, newest: true });
    } finally {
      await clients[0]!.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await Promise.all(clients.map((sql) => sql.end()));
    }
  });
}

for (
  const [staging, rows] of [["auto", 20], ["copy", 300], ["insert", 300]] as [Staging, number][]
) {
  Deno.test(`createWarehouseSink().upsert() counts the rows left as they were because the stored row is as new or newer (${staging})`, async () => {
    const stack = await sharedStack();
    const schema = uniqueName(`w_stale_${staging}`);
    const sql = postgres(stack.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
    try {
      const sink = createWarehouseSink(
        sql,
        createPostgresDialect({ schema, table: "users" }, { staging }),
      );
      await sink.ensureTable();
      const users = Array.from({ length: rows }, (_, i) => testUser(i, "0008"));
      const at = (s: number, ids = "ev") =>
        users.map((u, i) =>
          toUserRow(testEvent(u, new Date(Date.UTC(2026, 0, 1, 0, 0, s)), `${ids}-${s}-${i}`))
        );
      const half = rows / 2;
      assert.deepEqual(await sink.upsert(at(5)), { stale: 0 }, "all new");
      assert.deepEqual(await sink.upsert(at(5)), { stale: rows }, "the same events again");
      const mixed = [...at(9).slice(0, half), ...at(1).slice(half)];
      assert.deepEqual(await sink.upsert(mixed), { stale: half }, "half newer, half older");
      const [row] = await sql.unsafe(
        `SELECT count(*) FILTER (WHERE event_time = '2026-01-01T00:00:09Z')::int AS newer,
           count(*) FILTER (WHERE event_time = '2026-01-01T00:00:05Z')::int AS kept
         FROM ${schema}.users`,
      );
      assert.deepEqual({ ...row }, { newer: half, kept: half });
    } finally {
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.end();
    }
  });
}
