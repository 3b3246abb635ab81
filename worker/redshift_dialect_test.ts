import assert from "node:assert/strict";
import type { SqlStep } from "./dialect.ts";
import { LIMITS } from "../shared/event.ts";
import { createRedshiftDialect } from "./redshift_dialect.ts";
import { MAX_UTF8_BYTES_PER_CHARACTER, TABLE_COLUMNS } from "./table_columns.ts";
import { testEvent, testUser } from "./_test_events.ts";
import { toUserRow } from "./user_row.ts";

const golden = (name: string) => new URL(`./testdata/${name}`, import.meta.url);

/** Compares `actual` with a golden file; `UPDATE_GOLDEN=1` rewrites the file instead. */
async function assertGolden(name: string, actual: string): Promise<void> {
  if (Deno.env.get("UPDATE_GOLDEN") === "1") await Deno.writeTextFile(golden(name), actual);
  assert.equal(actual, await Deno.readTextFile(golden(name)), `golden file ${name}`);
}

function render(steps: SqlStep[]): string {
  return steps.map((s) => {
    const params = s.kind === "query" && s.params.length > 0
      ? `-- params: ${JSON.stringify(s.params)}\n`
      : "";
    return `${params}${s.text};\n`;
  }).join("\n");
}

/** Comments and layout removed, upper case: what the DDL means, not how it is spaced. */
function normalise(ddl: string): string {
  return ddl.replace(/--[^\n]*/g, "").replace(/\s+/g, " ").replace(/\s*([(),;])\s*/g, "$1")
    .trim().replace(/;$/, "").toUpperCase();
}

Deno.test("redshift dialect: the DDL means exactly terraform/table_schema.sql", async () => {
  const contract = await Deno.readTextFile(
    new URL("../terraform/table_schema.sql", import.meta.url),
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
    // The id is a UUID: 36 ASCII characters, one byte each.
    const bytes = field === "id" ? limit : limit * 4;
    assert.equal(widths[field], bytes, `${field}: ${limit} characters`);
  }
  const contract = Deno.readTextFileSync(new URL("../terraform/table_schema.sql", import.meta.url));
  assert.match(contract, /first_name VARCHAR\(1024\) NOT NULL/, "256 characters, 1024 bytes");
});

Deno.test("redshift dialect: table DDL matches its golden file", async () => {
  const ddl = createRedshiftDialect({ schema: "user_data_prod", table: "users" }).createTable();
  await assertGolden("redshift_create_table.sql", ddl.map((s) => `${s};\n`).join("\n"));
});

Deno.test("redshift dialect: upsert SQL matches its golden file", async () => {
  const dialect = createRedshiftDialect({ schema: "public", table: "users" });
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

Deno.test("redshift dialect: no PostgreSQL-only syntax, no TRUNCATE", () => {
  const dialect = createRedshiftDialect({ schema: "s", table: "users" });
  const text = [
    ...dialect.createTable(),
    ...dialect.upsert([toUserRow(testEvent(testUser(1), new Date()))], new Date()).map((s) =>
      s.text
    ),
  ].join("\n").toUpperCase();
  for (const banned of ["ON CONFLICT", "TRUNCATE", "PG_TEMP", " TEXT", "UUID", "JSONB", "COPY "]) {
    assert.ok(!text.includes(banned), `redshift SQL contains ${banned}`);
  }
  assert.ok(!/WHEN MATCHED AND/.test(text), "Redshift MERGE takes no extra match condition");
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
    total += s.params.length / 15;
  }
  assert.equal(total, 5_000);
});
