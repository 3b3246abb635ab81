import assert from "node:assert/strict";
import type { SqlStep } from "./dialect.ts";
import { LIMITS } from "../../shared/event.ts";
import { createRedshiftDialect } from "./redshift_dialect.ts";
import { MAX_UTF8_BYTES_PER_CHARACTER, TABLE_COLUMNS } from "./table_columns.ts";
import { testEvent, testUser } from "../../testing/users.ts";
import { toUserRow, type UserRow } from "./user_row.ts";
import { CSV_NULL } from "./csv_row.ts";

const golden = (name: string) => new URL(`./testdata/${name}`, import.meta.url);

/** Compares `actual` with a golden file; `UPDATE_GOLDEN=1` rewrites the file instead. */
async function assertGolden(name: string, actual: string): Promise<void> {
  if (Deno.env.get("UPDATE_GOLDEN") === "1") await Deno.writeTextFile(golden(name), actual);
  assert.equal(actual, await Deno.readTextFile(golden(name)), `golden file ${name}`);
}

function render(steps: SqlStep[]): string {
  return steps.map((s) => {
    switch (s.kind) {
      case "query": {
        const params = s.params.length > 0 ? `-- params: ${JSON.stringify(s.params)}\n` : "";
        return `${params}${s.text};\n`;
      }
      case "load":
        return `-- objects: ${s.objects.keyPrefix}part-NNNNN.csv.gz, ${s.objects.rows.length} ` +
          `rows + ${JSON.stringify(s.objects.trailing)}\n${s.text};\n`;
      case "undo":
        return `-- undo, if a later transaction fails: ${s.text};\n`;
      default:
        return `${s.text};\n`;
    }
  }).join("\n");
}

const WRITE_ID = "20260102t030405z-00000000-0000-4000-8000-0123456789ab";
const S3 = {
  bucket: "user-pipeline-staging-abc",
  prefix: "staging/",
  iamRole: "default",
  minRows: 1000,
};
const rowsOf = (n: number): UserRow[] =>
  Array.from({ length: n }, (_, i) => toUserRow(testEvent(testUser(i), new Date())));

/** Comments and layout removed, upper case: what the DDL means, not how it is spaced. */
function normalise(ddl: string): string {
  return ddl.replace(/--[^\n]*/g, "").replace(/\s+/g, " ").replace(/\s*([(),;])\s*/g, "$1")
    .trim().replace(/;$/, "").toUpperCase();
}

Deno.test("redshift dialect: the DDL means exactly terraform/table_schema.sql", async () => {
  const contract = await Deno.readTextFile(
    new URL("../../terraform/table_schema.sql", import.meta.url),
  );
  const [ddl] = createRedshiftDialect({ schema: "public", table: "users" }).createTable();
  // The contract names the table without a schema; the worker qualifies it.
  assert.equal(normalise(ddl!.replace("public.users", "users")), normalise(contract));
});

Deno.test("redshift dialect: the drift test notices a changed width", () => {
  const [ddl] = createRedshiftDialect({ schema: "public", table: "users" }).createTable();
  const email = `email VARCHAR(${LIMITS.email * MAX_UTF8_BYTES_PER_CHARACTER})`;
  assert.ok(ddl!.includes(email), email);
  assert.notEqual(
    normalise(ddl!),
    normalise(ddl!.replace(email, `email VARCHAR(${LIMITS.email})`)),
  );
});

Deno.test("redshift dialect: every text column holds its limit in characters of 4 UTF-8 bytes", () => {
  const widths = Object.fromEntries(
    TABLE_COLUMNS.flatMap((c) => c.type.kind === "varchar" ? [[c.name, c.type.bytes]] : []),
  );
  for (const [field, limit] of Object.entries(LIMITS)) {
    // The id is a UUID and nat two capital letters: ASCII characters, one byte each.
    const bytes = field === "id" || field === "nat" ? limit : limit * 4;
    assert.equal(widths[field], bytes, `${field}: ${limit} characters`);
  }
  const contract = Deno.readTextFileSync(
    new URL("../../terraform/table_schema.sql", import.meta.url),
  );
  assert.match(contract, /first_name VARCHAR\(1024\) NOT NULL/, "256 characters, 1024 bytes");
});

Deno.test("redshift dialect: table DDL matches its golden file", async () => {
  const ddl = createRedshiftDialect({ schema: "user_data_prod", table: "users" }).createTable();
  await assertGolden("redshift_create_table.sql", ddl.map((s) => `${s};\n`).join("\n"));
});

Deno.test("redshift dialect: upsert SQL matches its golden file", async () => {
  const dialect = createRedshiftDialect({ schema: "public", table: "users" }, {
    newWriteId: () => WRITE_ID,
  });
  const at = new Date("2026-01-01T00:00:00.000Z");
  const rows = [
    toUserRow(testEvent(testUser(1), at, "00000000-0000-4000-8000-00000000000a")),
    toUserRow(
      testEvent(testUser(2, "0000", { gender: null }), at, "00000000-0000-4000-8000-00000000000b"),
    ),
  ];
  await assertGolden(
    "redshift_upsert.sql",
    render(dialect.upsert(rows, new Date("2026-01-02T03:04:05.000Z"))),
  );
});

Deno.test("redshift dialect: an S3-staged upsert matches its golden file", async () => {
  const dialect = createRedshiftDialect({ schema: "public", table: "users" }, {
    s3: S3,
    newWriteId: () => WRITE_ID,
  });
  const steps = dialect.upsert(rowsOf(1000), new Date("2026-01-02T03:04:05.000Z"));
  await assertGolden("redshift_upsert_s3.sql", render(steps));
});

Deno.test("redshift dialect: the COPY names the role's ARN quoted, `default` bare", () => {
  const role = "arn:aws:iam::123456789012:role/user-pipeline-redshift-abc";
  const copy = (iamRole: string) =>
    createRedshiftDialect({ schema: "s", table: "users" }, { s3: { ...S3, iamRole } })
      .upsert(rowsOf(1000), new Date()).find((s) => s.kind === "load")!.text;
  assert.match(copy(role), new RegExp(`\\nIAM_ROLE '${role}'\\n`));
  assert.match(copy("default"), /\nIAM_ROLE default\n/);
});

Deno.test("redshift dialect: S3 from WAREHOUSE_S3_MIN_ROWS rows on, INSERT below it and without S3", () => {
  const kinds = (n: number, s3?: typeof S3) =>
    createRedshiftDialect({ schema: "s", table: "users" }, s3 ? { s3 } : {})
      .upsert(rowsOf(n), new Date()).map((s) => s.kind === "query" ? s.text.split(" ")[0] : s.kind);
  const merge = ["commit", "LOCK", "DELETE", "MERGE", "DROP"];
  assert.deepEqual(kinds(999, S3), ["CREATE", "undo", "INSERT", ...merge]);
  assert.deepEqual(kinds(1000, S3), ["CREATE", "undo", "load", ...merge]);
  assert.deepEqual(kinds(5000), ["CREATE", "undo", "INSERT", "INSERT", "INSERT", ...merge]);
});

Deno.test("redshift dialect: a batch holding the CSV NULL marker as a value is staged by INSERT", () => {
  const rows = rowsOf(1000);
  rows[500] = rows[500]!.map((v, i) => i === 7 ? CSV_NULL : v); // username
  const steps = createRedshiftDialect({ schema: "s", table: "users" }, { s3: S3 })
    .upsert(rows, new Date());
  assert.ok(!steps.some((s) => s.kind === "load"), "no COPY from S3");
  assert.ok(steps.some((s) => s.kind === "query" && s.params.includes(CSV_NULL)));
});

Deno.test("redshift dialect: the stage is LIKE the table, named per write, dropped by merge or undo", () => {
  const dialect = createRedshiftDialect({ schema: "s", table: "users" }, { s3: S3 });
  const stageOf = (steps: SqlStep[]) =>
    /^CREATE TEMP TABLE (users_stage_[0-9a-f]{12}) \(LIKE s\.users\)$/.exec(steps[0]!.text)?.[1];
  const a = dialect.upsert(rowsOf(1000), new Date());
  const b = dialect.upsert(rowsOf(1), new Date());
  assert.ok(stageOf(a) && stageOf(b), a[0]!.text);
  assert.notEqual(stageOf(a), stageOf(b), "a stage left by a failed merge never collides");
  for (const steps of [a, b]) {
    assert.deepEqual(steps[1], { kind: "undo", text: `DROP TABLE ${stageOf(steps)}` });
    assert.equal(steps.at(-1)!.text, `DROP TABLE ${stageOf(steps)}`);
  }
  const load = a.find((s) => s.kind === "load");
  assert.ok(load?.kind === "load");
  assert.match(load.objects.keyPrefix, /^staging\/\d{8}t\d{6}z-[0-9a-f-]{36}\/$/);
  assert.ok(load.text.includes(`FROM 's3://${S3.bucket}/${load.objects.keyPrefix}'`));
});

Deno.test("redshift dialect: the merge transaction takes LOCK on the table first", () => {
  for (const n of [1, 1000]) {
    const steps = createRedshiftDialect({ schema: "s", table: "users" }, { s3: S3 })
      .upsert(rowsOf(n), new Date());
    const commit = steps.findIndex((s) => s.kind === "commit");
    assert.equal(steps[commit + 1]!.text, "LOCK s.users");
    assert.ok(
      steps.slice(0, commit).every((s) => !s.text.includes("s.users") || s.text.includes("LIKE")),
      "the staging transaction does not read or write the table",
    );
  }
});

Deno.test("redshift dialect: no PostgreSQL-only syntax, no TRUNCATE", () => {
  for (const n of [1, 1000]) {
    const dialect = createRedshiftDialect({ schema: "s", table: "users" }, { s3: S3 });
    const text = [
      ...dialect.createTable(),
      ...dialect.upsert(rowsOf(n), new Date()).map((s) => s.text),
    ]
      .join("\n").toUpperCase();
    for (
      const banned of ["ON CONFLICT", "TRUNCATE", "PG_TEMP", " TEXT", "UUID", "JSONB", "STDIN"]
    ) {
      assert.ok(!text.includes(banned), `redshift SQL contains ${banned}`);
    }
    assert.ok(!/WHEN MATCHED AND/.test(text), "Redshift MERGE takes no extra match condition");
  }
});

Deno.test("redshift dialect: staging inserts stay under 32,767 parameters per statement", () => {
  const dialect = createRedshiftDialect({ schema: "s", table: "users" });
  const rows = Array.from(
    { length: 5_000 },
    (_, i) => toUserRow(testEvent(testUser(i), new Date())),
  );
  const inserts = dialect.upsert(rows, new Date()).filter((s) => s.text.startsWith("INSERT"));
  assert.ok(inserts.length >= 3);
  let total = 0;
  for (const s of inserts) {
    assert.equal(s.kind, "query");
    if (s.kind !== "query") continue;
    assert.ok(s.params.length <= 32_767, `${s.params.length} parameters`);
    assert.ok(s.text.length < 16 * 1024 * 1024);
    total += (s.params.length - 1) / 15; // one parameter is the write time
  }
  assert.equal(total, 5_000);
});

Deno.test("redshift dialect: the stale-row DELETE is the step whose row count says how many rows were stale", () => {
  const dialect = createRedshiftDialect({ schema: "s", table: "users" }, {});
  const counted = dialect.upsert(rowsOf(3), new Date()).flatMap((s) =>
    s.kind === "query" && s.counts ? [[s.counts, s.text.split("\n")[0]]] : []
  );
  assert.equal(counted.length, 1);
  assert.equal(counted[0]![0], "stale");
  assert.match(counted[0]![1]!, /^DELETE FROM users_stage_[0-9a-f]+$/);
});

Deno.test("redshift dialect: the ALTERs of terraform/table_schema.sql are the worker's, one per later column", async () => {
  const contract = await Deno.readTextFile(
    new URL("../../terraform/table_schema.sql", import.meta.url),
  );
  const documented = [...contract.matchAll(/^-- {3}(ALTER TABLE users ADD COLUMN [^;]*);/gm)]
    .map((m) => m[1]);
  const dialect = createRedshiftDialect({ schema: "public", table: "users" });
  const later = TABLE_COLUMNS.filter((c) => c.since > 1);
  assert.ok(later.length > 0);
  assert.deepEqual(
    documented,
    later.map((c) => dialect.addColumn(c).replace("public.users", "users")),
  );
});

Deno.test("redshift dialect: evolving the table matches its golden file", async () => {
  const dialect = createRedshiftDialect({ schema: "user_data_prod", table: "users" });
  const describe = dialect.describeColumns();
  await assertGolden(
    "redshift_evolve_table.sql",
    `-- params: ${JSON.stringify(describe.params)}\n${describe.text};\n\n` +
      TABLE_COLUMNS.filter((c) => c.since > 1).map((c) => `${dialect.addColumn(c)};\n`).join(""),
  );
});

Deno.test("redshift dialect: a batch of two versions matches its golden file (a stage and a MERGE per column set)", async () => {
  const dialect = createRedshiftDialect({ schema: "public", table: "users" }, {
    newWriteId: () => WRITE_ID,
  });
  const at = new Date("2026-01-01T00:00:00.000Z");
  const rows = [
    toUserRow(testEvent(testUser(1), at, "00000000-0000-4000-8000-00000000000a")),
    toUserRow(
      testEvent(
        testUser(2, "0000", { nat: "FR", cell: "06 12 34 56 78" }),
        at,
        "00000000-0000-4000-8000-00000000000b",
      ),
    ),
  ];
  assert.deepEqual(rows.map((r) => r.length), [15, 17]);
  await assertGolden(
    "redshift_upsert_versions.sql",
    render(dialect.upsert(rows, new Date("2026-01-02T03:04:05.000Z"))),
  );
});
