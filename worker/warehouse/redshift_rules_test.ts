import assert from "node:assert/strict";
import type { Dialect, SqlStep } from "./dialect.ts";
import { copyFromS3, createRedshiftDialect, type RedshiftOptions } from "./redshift_dialect.ts";
import {
  MAX_STATEMENT_BYTES,
  type RedshiftStatements,
  redshiftViolations,
  type RuleViolation,
} from "./redshift_rules.ts";
import { EVENT_COLUMNS, eventColumns, TABLE_COLUMNS } from "./table_columns.ts";
import { CSV_NULL } from "./csv_row.ts";
import { toUserRow, type UserRow } from "./user_row.ts";
import { dedupeLatest } from "../which_event_wins.ts";
import { testEvent, testUser } from "../../testing/users.ts";
import type { User } from "../../shared/event.ts";

const TABLE = { schema: "user_data_prod", table: "users" };
const TARGET = "user_data_prod.users";
const WRITE_ID = "20260102t030405z-00000000-0000-4000-8000-0123456789ab";
const STAGE = "users_stage_0123456789ab";
const S3 = {
  bucket: "user-pipeline-staging-abc",
  prefix: "staging/",
  iamRole: "arn:aws:iam::123456789012:role/user-pipeline-redshift-abc",
  minRows: 1000,
};
const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const AT = new Date("2026-01-02T03:04:05.000Z");

const dialectWith = (opts: RedshiftOptions = {}): Dialect =>
  createRedshiftDialect(TABLE, { newWriteId: () => WRITE_ID, ...opts });

/** User `i`'s version-1 row, its event accepted `ms` after T0. */
const v1 = (i: number, ms = 0, user: Partial<User> = {}): UserRow =>
  toUserRow(testEvent(testUser(i, "0000", user), new Date(T0 + ms)));
/** User `i`'s version-2 row (with nat and cell), its event accepted `ms` after T0. */
const v2 = (i: number, ms = 0, user: Partial<User> = {}): UserRow =>
  v1(i, ms, { nat: "GB", cell: `+44 7700 900${String(i % 1000).padStart(3, "0")}`, ...user });
const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

/**
 * The writes the worker makes of `candidates` (rows in offset order), as `handleBatch` does:
 * `dedupeLatest`, then one upsert per round.
 */
function writesOf(dialect: Dialect, candidates: readonly UserRow[]): SqlStep[][] {
  const { rounds } = dedupeLatest(candidates.map((row) => ({ row })));
  return rounds.map((round) => dialect.upsert(round.map((c) => c.row), AT));
}

/** One line per violation, for an assertion that reads as the report would. */
const lines = (violations: RuleViolation[]) =>
  violations.map((v) => `${v.rule}: ${v.statement}: ${v.message}`);

const check = (write: readonly SqlStep[], setup: RedshiftStatements["setup"] = []) =>
  lines(redshiftViolations({ target: TARGET, write, setup }));

const statementsOf = (steps: readonly SqlStep[], verb: string) =>
  steps.filter((s) => s.kind === "query" && s.text.startsWith(verb));
const valueBytes = (rows: readonly UserRow[]) =>
  rows.reduce((n, r) => n + r.reduce((m, v) => m + new TextEncoder().encode(v ?? "").length, 0), 0);

/** A batch of candidates and what it must come to, so that each batch is what its name says. */
interface Batch {
  name: string;
  candidates: () => UserRow[];
  /** Asserts the shape of the writes (`s3`: the dialect stages through S3 from 1,000 rows). */
  shape?: (writes: SqlStep[][], s3: boolean) => void;
}

const BATCHES: Batch[] = [
  {
    name: "one row",
    candidates: () => [v2(1)],
    shape: (writes) => assert.equal(statementsOf(writes[0]!, "INSERT").length, 1),
  },
  {
    name: "30,000 rows: INSERT staging chunked by parameters, over 8 MB of values",
    candidates: () => range(30_000, (i) => v2(i)),
    shape: (writes, s3) => {
      const steps = writes[0]!;
      if (s3) return assert.equal(steps.filter((s) => s.kind === "load").length, 1);
      assert.ok(30_000 > 32_767 / 17);
      const inserts = statementsOf(steps, "INSERT");
      assert.equal(inserts.length, Math.ceil(30_000 / Math.floor(32_766 / 17)));
      assert.ok(valueBytes(range(30_000, (i) => v2(i))) > 8 * 1024 * 1024, "over 8 MB");
    },
  },
  {
    name: "3,000 rows of long non-ASCII values: INSERT staging chunked by bytes",
    candidates: () =>
      range(3_000, (i) => v2(i, 0, { address: "😀".repeat(1024), picture: "€".repeat(1024) })),
    shape: (writes, s3) => {
      if (s3) return;
      const inserts = statementsOf(writes[0]!, "INSERT");
      assert.ok(inserts.length > 2, `${inserts.length} INSERTs`);
      for (const s of inserts) {
        assert.ok(s.kind === "query" && (s.params.length - 1) / 17 < Math.floor(32_766 / 17));
      }
    },
  },
  {
    name: "1,500 rows: staged through S3 when configured",
    candidates: () => range(1_500, (i) => v2(i)),
    shape: (writes, s3) =>
      assert.equal(writes[0]!.filter((s) => s.kind === "load").length, s3 ? 1 : 0),
  },
  {
    // Whether a row is stale depends on the table, not the SQL: the stale DELETE drops them.
    name: "late events, a day older than the rows the table may hold (stale rows)",
    candidates: () => range(20, (i) => v2(i, -86_400_000)),
    shape: (writes) =>
      assert.ok(writes[0]!.some((s) => s.kind === "query" && s.counts === "stale")),
  },
  {
    name: "several events for one user, a version-1 event after a version-2 one (two rounds)",
    candidates: () => [v2(1, 0), v1(1, 1), v1(1, 2), v1(2, 0), v1(2, 1), v2(3, 0)],
    shape: (writes) => assert.equal(writes.length, 2, "dedupeLatest keeps the wider row a round"),
  },
  {
    name: "1,200 users with three events each: one row per user reaches the S3 stage",
    candidates: () => [0, 1, 2].flatMap((ms) => range(1_200, (i) => v2(i, ms))),
    shape: (writes, s3) => {
      assert.equal(writes.length, 1);
      const load = writes[0]!.find((s) => s.kind === "load");
      if (s3) assert.ok(load?.kind === "load" && load.objects.rows.length === 1_200);
    },
  },
  {
    name: "versions 1 and 2 mixed: a stage and a MERGE per width",
    candidates: () => range(20, (i) => i % 2 ? v1(i) : v2(i)),
    shape: (writes) => assert.equal(statementsOf(writes[0]!, "MERGE").length, 2),
  },
  {
    name: "1,200 rows of each version: two COPYs of different column lists",
    candidates: () => range(2_400, (i) => i % 2 ? v1(i) : v2(i)),
    shape: (writes, s3) =>
      assert.equal(writes[0]!.filter((s) => s.kind === "load").length, s3 ? 2 : 0),
  },
  {
    name: "1,500 rows, one holding the CSV null marker: staged by INSERT",
    candidates: () => range(1_500, (i) => v2(i, 0, i === 700 ? { username: CSV_NULL } : {})),
    shape: (writes) => {
      assert.equal(writes[0]!.filter((s) => s.kind === "load").length, 0);
      assert.ok(
        statementsOf(writes[0]!, "INSERT").some((s) =>
          s.kind === "query" && s.params.includes(CSV_NULL)
        ),
      );
    },
  },
];

for (const batch of BATCHES) {
  for (const [how, opts] of [["INSERT only", {}], ["S3 from 1,000 rows", { s3: S3 }]] as const) {
    Deno.test(`redshiftViolations() finds none in the writes of ${batch.name} (${how})`, () => {
      const writes = writesOf(dialectWith(opts), batch.candidates());
      batch.shape?.(writes, "s3" in opts);
      for (const write of writes) assert.deepEqual(check(write), []);
    });
  }
}

Deno.test("redshiftViolations() finds none in the table's DDL, its column query and its ALTERs", () => {
  for (const schema of ["public", "user_data_prod"]) {
    const dialect = createRedshiftDialect({ schema, table: "users" });
    const describe = dialect.describeColumns();
    const setup = [
      ...dialect.createTable().map((text) => ({ text })),
      describe,
      ...TABLE_COLUMNS.filter((c) => c.since > 1).map((c) => ({ text: dialect.addColumn(c) })),
    ];
    assert.equal(setup.length, schema === "public" ? 4 : 5);
    assert.deepEqual(lines(redshiftViolations({ target: `${schema}.users`, setup })), []);
  }
});

// Each rule breaks on a statement list made by hand (mostly a real write, altered), so the
// check above can fail.

/** A write of `rows` with its step at `index` (1-based, as reported) changed by `edit`. */
function altered(
  rows: readonly UserRow[],
  edits: Record<number, (text: string) => string>,
  opts: RedshiftOptions = {},
): SqlStep[] {
  return dialectWith(opts).upsert(rows, AT).map((step, i) => {
    const edit = edits[i + 1];
    return edit && step.kind !== "commit" ? { ...step, text: edit(step.text) } : step;
  });
}

Deno.test("rule one-row-per-key: a stage holding one id twice is reported on its MERGE", () => {
  // Past dedupeLatest: the dialect is given two rows of user 1.
  const inserted = dialectWith().upsert([v2(1, 0), v2(2, 0), v2(1, 5)], AT);
  const loaded = dialectWith({ s3: S3 }).upsert(
    [...range(1_000, (i) => v2(i)), v2(999, 5), v2(0, 5)],
    AT,
  );
  assert.ok(loaded.some((s) => s.kind === "load"));
  const merge = `upsert step 7 (MERGE ${TARGET})`;
  assert.deepEqual(check(inserted), [
    `one-row-per-key: ${merge}: its source ${STAGE} holds several rows for 1 id(s) ` +
    `(00000000-0000-4000-8000-000000000001): Redshift's MERGE fails`,
  ]);
  assert.deepEqual(check(loaded), [
    `one-row-per-key: ${merge}: its source ${STAGE} holds several rows for 2 id(s) ` +
    `(00000000-0000-4000-8000-0000000003e7, 00000000-0000-4000-8000-000000000000): ` +
    `Redshift's MERGE fails`,
  ]);
  const fromTable = altered([v2(1)], { 7: (t) => t.replace(`USING ${STAGE}`, "USING s.other") });
  assert.deepEqual(check(fromTable).map((l) => l.split(": its")[0]), [
    `one-row-per-key: ${merge}`,
  ]);
});

Deno.test("rule redshift-syntax: WITH, a condition on WHEN MATCHED, ON CONFLICT, TRUNCATE", () => {
  const write = altered([v2(1)], {
    2: () => `TRUNCATE ${STAGE}`,
    6: (t) => `WITH fresh AS (SELECT id FROM ${STAGE})\n${t}`,
    7: (t) =>
      t.replace(
        "WHEN MATCHED THEN",
        `WHEN MATCHED AND ${STAGE}.event_time > users.event_time THEN`,
      ),
  });
  const upsert: SqlStep = {
    kind: "query",
    text: `INSERT INTO ${TARGET} (id) SELECT id FROM ${STAGE} ON CONFLICT (id) DO NOTHING`,
    params: [],
  };
  assert.deepEqual(check([...write.slice(0, -1), upsert]), [
    `redshift-syntax: upsert step 6 (WITH fresh AS (SELECT id FROM ${STAGE})): uses WITH (a CTE)`,
    `redshift-syntax: upsert step 7 (MERGE ${TARGET}): puts a condition on WHEN MATCHED AND: ` +
    "Redshift's MERGE takes none",
    `redshift-syntax: upsert step 8 (INSERT ${TARGET}): uses ON CONFLICT, which Redshift lacks`,
    `redshift-syntax: undo step 2 (TRUNCATE ${STAGE}): uses TRUNCATE in a write: Redshift ` +
    "commits the transaction on TRUNCATE",
  ]);
  const subquery = altered([v2(1)], {
    7: (t) => t.replace(`USING ${STAGE}`, `USING (SELECT * FROM ${STAGE}) AS ${STAGE}`),
  });
  assert.ok(
    check(subquery).includes(
      `redshift-syntax: upsert step 7 (MERGE ${TARGET}): merges from a subquery: Redshift's ` +
        "MERGE takes a table as its source",
    ),
  );
});

Deno.test("rule statement-size: over 16 MB with its values, or over 32,767 parameters", () => {
  const big: SqlStep = {
    kind: "query",
    text: `INSERT INTO ${STAGE} (id, address) VALUES ($1, $2)`,
    params: ["00000000-0000-4000-8000-000000000001", "é".repeat(MAX_STATEMENT_BYTES / 2)],
  };
  const many: SqlStep = {
    kind: "query",
    text: `INSERT INTO ${STAGE} (id) VALUES ${range(32_768, (i) => `($${i + 1})`).join(", ")}`,
    params: range(32_768, (i) => v2(i)[0]!),
  };
  const sizes = check([big, many]).filter((l) => l.startsWith("statement-size"));
  assert.deepEqual(sizes, [
    `statement-size: upsert step 1 (INSERT ${STAGE}): is ${
      MAX_STATEMENT_BYTES + 36 + big.text.length
    } bytes with its values, over Redshift's ${MAX_STATEMENT_BYTES}`,
    `statement-size: upsert step 2 (INSERT ${STAGE}): binds 32768 parameters, over 32767`,
  ]);
});

Deno.test("rule lock-first: the merge transaction reads or writes the table before LOCK", () => {
  const steps = dialectWith().upsert([v2(1)], AT);
  const swapped = [...steps.slice(0, 4), steps[5]!, steps[4]!, ...steps.slice(6)];
  assert.deepEqual(check(swapped), [
    `lock-first: upsert step 5 (DELETE ${STAGE}): starts the transaction after a commit, ` +
    `where LOCK ${TARGET} must come first`,
  ]);
  const oneTransaction = steps.filter((s) => s.kind !== "commit");
  assert.deepEqual(check(oneTransaction), [
    `lock-first: upsert step 4 (LOCK ${TARGET}): comes after other statements of its ` +
    "transaction: it must be the first",
  ]);
  const noLock = oneTransaction.filter((s) => !s.text.startsWith("LOCK"));
  assert.deepEqual(check(noLock), [
    `lock-first: upsert step 4 (DELETE ${STAGE}): reads or writes ${TARGET} in a transaction ` +
    `that does not start with LOCK ${TARGET}`,
  ]);
});

Deno.test("rule copy-matches-csv: options that change values, and a column list that is not the rows'", () => {
  const rows = range(1_000, (i) => v2(i));
  const options = altered(rows, {
    3: (t) =>
      t.replace("MAXERROR 0", "MAXERROR 10\nEMPTYASNULL\nACCEPTINVCHARS")
        .replace(`NULL AS '${CSV_NULL}'`, "NULL AS '\\N'").replace("GZIP\n", ""),
  }, { s3: S3 });
  assert.deepEqual(check(options).map((l) => l.split(": ").slice(1).join(": ")), [
    "upsert step 3 (COPY users_stage_0123456789ab): lacks GZIP: gzip_csv_parts.ts compresses " +
    "every object",
    "upsert step 3 (COPY users_stage_0123456789ab): lacks MAXERROR 0: a refused field fails " +
    "the load, never a dropped row",
    `upsert step 3 (COPY users_stage_0123456789ab): has NULL AS '\\N', not '${CSV_NULL}'`,
    "upsert step 3 (COPY users_stage_0123456789ab): has EMPTYASNULL: EMPTYASNULL turns the " +
    "empty string into NULL",
    "upsert step 3 (COPY users_stage_0123456789ab): has ACCEPTINVCHARS: ACCEPTINVCHARS " +
    "replaces invalid UTF-8 instead of refusing it",
  ]);
  const swapped = altered(rows, {
    3: (t) => t.replace("date_added, updated_at", "updated_at, date_added"),
  }, { s3: S3 });
  assert.equal(check(swapped).length, 1);
  assert.match(
    check(swapped)[0]!,
    /^copy-matches-csv: upsert step 3 .*: names \(id, .*, updated_at, date_added\), but rows 17 wide are staged as \(id, .*, date_added, updated_at\)$/,
  );
  const oldRows = altered(range(1_000, (i) => v1(i)), {
    3: (t) =>
      t.replace(
        /\([^)]*\)/,
        `(${EVENT_COLUMNS.map((c) => c.name).join(", ")}, date_added, updated_at)`,
      ),
  }, { s3: S3 });
  assert.equal(eventColumns(1).length, 15);
  assert.deepEqual(check(oldRows).map((l) => l.split(":").slice(0, 2).join(":")), [
    "copy-matches-csv: upsert step 3 (COPY users_stage_0123456789ab)",
    "copy-matches-csv: upsert step 3 (COPY users_stage_0123456789ab)",
  ]);
  assert.match(
    check(oldRows)[1]!,
    /names 19 columns, but its lines have 15 values and 2 trailing$/,
  );
  const stdin: SqlStep = {
    kind: "copy",
    text: copyFromS3(STAGE, "s3://b/p/", "default").replace(/FROM '[^']*'/, "FROM STDIN"),
    data: "",
  };
  assert.deepEqual(check([stdin]), [
    `copy-matches-csv: upsert step 1 (COPY ${STAGE}): is not a load step: Redshift's COPY ` +
    "reads the S3 objects the sink uploads",
  ]);
});

Deno.test("rule add-column-only: ALTER in a write, or one that is not one nullable ADD COLUMN", () => {
  const nat = `ALTER TABLE ${TARGET} ADD COLUMN nat VARCHAR(2)`;
  const write = altered([v2(1)], { 6: () => nat });
  assert.deepEqual(check(write), [
    `add-column-only: upsert step 6 (${nat}): alters a table inside a write`,
  ]);
  const setup = [
    `${nat} NOT NULL DEFAULT 'GB'`,
    `${nat}, ADD COLUMN cell VARCHAR(256)`,
    `ALTER TABLE ${TARGET} DROP COLUMN cell`,
    `ALTER TABLE ${TARGET} ADD COLUMN amount DECIMAL(10,2)`,
  ].map((text) => ({ text }));
  assert.deepEqual(lines(redshiftViolations({ target: TARGET, setup })), [
    `add-column-only: setup statement 1 (${setup[0]!.text.slice(0, 60)}…): adds a NOT NULL column`,
    `add-column-only: setup statement 2 (${setup[1]!.text.slice(0, 60)}…): adds more than one ` +
    "column",
    `add-column-only: setup statement 3 (${setup[2]!.text}): is not ALTER TABLE … ADD COLUMN`,
  ]);
});

Deno.test("rule bound-parameters: a $n past the values, and a value never used", () => {
  const describe = dialectWith().describeColumns();
  const setup = [{ text: describe.text, params: describe.params.slice(0, 1) }];
  assert.deepEqual(lines(redshiftViolations({ target: TARGET, setup })), [
    "bound-parameters: setup statement 1 (SELECT column_name, data_type, character_maximum_length, " +
    "is_…): uses $2 but binds 1 values",
  ]);
  const steps = dialectWith().upsert([v2(1)], AT).map((s) =>
    s.kind === "query" && s.text.startsWith("INSERT") ? { ...s, params: [...s.params, "extra"] } : s
  );
  assert.deepEqual(check(steps), [
    `bound-parameters: upsert step 3 (INSERT ${STAGE}): binds 1 value(s) it never uses ($19)`,
  ]);
  const literal: SqlStep = { kind: "query", text: `SELECT '$1' FROM ${STAGE}`, params: ["x"] };
  assert.deepEqual(check([literal]), [
    `bound-parameters: upsert step 1 (SELECT '$1' FROM ${STAGE}): binds 1 value(s) it never ` +
    "uses ($1)",
  ]);
});
