import assert from "node:assert/strict";
import {
  COPY_MIN_ROWS,
  copyText,
  createPostgresDialect,
  placeholders,
} from "./postgres_dialect.ts";
import { EVENT_COLUMNS, eventColumns } from "./table_columns.ts";

Deno.test("copyText() escapes tabs, newlines and backslashes and writes nulls as \\N", () => {
  assert.equal(
    copyText([["a\tb", null, "c\\d\ne\rf", "Zoë"]]),
    "a\\tb\t\\N\tc\\\\d\\ne\\rf\tZoë\n",
  );
});

Deno.test("placeholders() numbers parameters row by row", () => {
  const text = placeholders(2, eventColumns(1));
  assert.ok(text.startsWith("($1, $2, "));
  assert.ok(text.includes("$15::VARCHAR::TIMESTAMPTZ), ($16, "));
  assert.ok(text.endsWith("$30::VARCHAR::TIMESTAMPTZ)"));
});

Deno.test("placeholders() binds timestamps as text, so postgres.js does not turn them into Dates", () => {
  const cells = placeholders(1, eventColumns(1)).slice(1, -1).split(", ");
  assert.deepEqual(
    cells.flatMap((c, i) => c.endsWith("::VARCHAR::TIMESTAMPTZ") ? [i] : []),
    [8, 9, 14],
    "dob, registered_date, event_time",
  );
});

Deno.test("postgres dialect: COPY staging then one INSERT … ON CONFLICT that refuses older events", () => {
  const steps = createPostgresDialect({ schema: "s", table: "users" }, { staging: "copy" }).upsert(
    [["id1", ...Array(14).fill(null)]],
    new Date("2026-01-01T00:00:00.000Z"),
  );
  assert.deepEqual(steps.map((s) => s.kind), ["query", "copy", "query"]);
  assert.match(steps[0]!.text, /^CREATE TEMP TABLE IF NOT EXISTS users_stage/);
  assert.match(steps[0]!.text, /ON COMMIT DELETE ROWS$/);
  assert.match(steps[1]!.text, /^COPY pg_temp\.users_stage \(id, first_name, .*event_time\)/);
  const merge = steps[2]!;
  assert.match(merge.text, /^INSERT INTO s\.users AS t \(id, .*, date_added, updated_at\)/);
  assert.match(merge.text, /\nFROM pg_temp\.users_stage AS s\n/);
  assert.match(
    merge.text,
    /ON CONFLICT \(id\) DO UPDATE SET[^]*\n {2}WHERE \(excluded\.event_time > t\.event_time OR \(excluded\.event_time = t\.event_time AND excluded\.event_id > t\.event_id\)\)$/,
  );
  assert.ok(!/date_added = /.test(merge.text), "an update never touches date_added");
  assert.deepEqual(merge.kind === "query" && merge.params, ["2026-01-01T00:00:00.000Z"]);
});

Deno.test("postgres dialect: INSERT staging chunks within postgres.js's 65,534 parameters", () => {
  const rows = Array.from({ length: 9_000 }, (_, i) => [`id${i}`, ...Array(14).fill("x")]);
  const steps = createPostgresDialect({ schema: "s", table: "users" }, { staging: "insert" })
    .upsert(rows, new Date());
  const inserts = steps.filter((s) => s.text.startsWith("INSERT INTO pg_temp."));
  assert.equal(inserts.length, 3);
  for (const s of inserts) assert.ok(s.kind === "query" && s.params.length <= 65_534);
});

Deno.test("postgres dialect: the table has the contract's columns and a real primary key", () => {
  const [schema, ddl] = createPostgresDialect({ schema: "s", table: "users" }).createTable();
  assert.equal(schema, "CREATE SCHEMA IF NOT EXISTS s");
  assert.match(ddl!, /^CREATE TABLE IF NOT EXISTS s\.users \(/);
  assert.match(ddl!, /PRIMARY KEY \(id\)\n\)$/);
  assert.ok(!/DISTKEY|SORTKEY/.test(ddl!));
  assert.deepEqual(
    createPostgresDialect({ schema: "public", table: "users" }).createTable().length,
    1,
  );
});

Deno.test("postgres dialect: auto staging upserts small batches from VALUES and COPYs large ones", () => {
  const dialect = createPostgresDialect({ schema: "s", table: "users" });
  const rows = (n: number) =>
    Array.from({ length: n }, (_, i) => [`id${i}`, ...Array(14).fill("x")]);
  const kinds = (n: number) => dialect.upsert(rows(n), new Date()).map((s) => s.kind).join(",");
  assert.equal(kinds(COPY_MIN_ROWS - 1), "query");
  assert.equal(kinds(COPY_MIN_ROWS), "query,copy,query");
});

Deno.test("postgres dialect: the VALUES upsert binds every cell and the write time last", () => {
  const at = new Date("2026-01-01T00:00:00.000Z");
  const [step] = createPostgresDialect({ schema: "s", table: "users" }).upsert(
    [["id1", ...Array(14).fill(null)], ["id2", ...Array(14).fill("x")]],
    at,
  );
  assert.ok(step?.kind === "query");
  assert.match(step.text, /^INSERT INTO s\.users AS t \(/);
  assert.match(step.text, /\nFROM \(VALUES \(\$1, /);
  assert.match(step.text, /\) AS s \(id, first_name, .*event_time\)\nON CONFLICT \(id\)/);
  assert.match(step.text, /WHERE \(excluded\.event_time > t\.event_time OR /);
  assert.match(step.text, /updated_at = \$31::timestamptz/);
  assert.ok(!/date_added = /.test(step.text), "an update never touches date_added");
  assert.equal(step.params.length, 31);
  assert.equal(step.params.at(-1), at.toISOString());
});

Deno.test("postgres dialect: a batch of two versions is one upsert per column set, and an older row leaves the newer columns", () => {
  const v1 = ["id1", ...Array(eventColumns(1).length - 1).fill("x")];
  const v2 = ["id2", ...Array(EVENT_COLUMNS.length - 1).fill("y")];
  const at = new Date("2026-01-01T00:00:00.000Z");
  for (const staging of ["auto", "copy", "insert"] as const) {
    const steps = createPostgresDialect({ schema: "s", table: "users" }, { staging }).upsert(
      [v1, v2, v1.map((v, i) => i === 0 ? "id3" : v)],
      at,
    );
    const upserts = steps.filter((s) => s.text.startsWith("INSERT INTO s.users"));
    assert.equal(upserts.length, 2, staging);
    // The newest set first, then the older one.
    assert.match(upserts[0]!.text, /\(id, .*event_time, nat, cell, date_added, updated_at\)/);
    assert.match(upserts[0]!.text, /nat = excluded\.nat,\n {4}cell = excluded\.cell/);
    assert.match(upserts[1]!.text, /\(id, .*event_time, date_added, updated_at\)/);
    assert.ok(!/\bnat\b|\bcell\b/.test(upserts[1]!.text), `${staging}: v1 never names nat`);
    if (staging === "auto") {
      // Small: VALUES, 17 + 1 and 2 × 15 + 1 parameters.
      assert.deepEqual(steps.map((s) => s.kind === "query" && s.params.length), [18, 31]);
    } else {
      assert.ok(steps.some((s) => s.text === "DELETE FROM pg_temp.users_stage"), staging);
    }
  }
});
