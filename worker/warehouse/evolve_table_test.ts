import assert from "node:assert/strict";
import { compareColumns, type FoundColumn } from "./evolve_table.ts";
import { TABLE_COLUMNS } from "./table_columns.ts";

/** The columns `information_schema` gives for a table made from `TABLE_COLUMNS`. */
const asFound = (): FoundColumn[] =>
  TABLE_COLUMNS.map((c) => ({
    column_name: c.name,
    data_type: c.type.kind === "varchar" ? "character varying" : "timestamp with time zone",
    character_maximum_length: c.type.kind === "varchar" ? c.type.bytes : null,
    is_nullable: c.nullable ? "YES" : "NO",
  }));

Deno.test("compareColumns(): a table made from the schema needs nothing", () => {
  assert.deepEqual(compareColumns(asFound()), { missing: [], problems: [] });
});

Deno.test("compareColumns(): a version-1 table lacks the nullable columns of version 2, in order", () => {
  const found = asFound().filter((c) => c.column_name !== "nat" && c.column_name !== "cell");
  const { missing, problems } = compareColumns(found);
  assert.deepEqual(missing.map((c) => c.name), ["nat", "cell"]);
  assert.deepEqual(problems, []);
});

Deno.test("compareColumns(): a wider or extra column is fine; narrower, retyped, NOT NULL or a lost first-version column is named", () => {
  const change = (name: string, to: Partial<FoundColumn>) =>
    asFound().map((c) => c.column_name === name ? { ...c, ...to } : c);
  const extra: FoundColumn = {
    column_name: "loyalty_tier",
    data_type: "integer",
    character_maximum_length: null,
    is_nullable: "NO",
  };
  assert.deepEqual(compareColumns([...change("cell", { character_maximum_length: 512 }), extra]), {
    missing: [],
    problems: [],
  });
  const problem = (found: FoundColumn[]) => {
    const { problems } = compareColumns(found);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    return problems[0]!;
  };
  assert.equal(
    problem(change("nat", { character_maximum_length: 1 })),
    "column nat is VARCHAR(1); the worker needs VARCHAR(2) or wider",
  );
  assert.equal(
    problem(change("cell", { data_type: "text", character_maximum_length: null })),
    "column cell is text; the worker writes VARCHAR(256)",
  );
  assert.match(problem(change("nat", { is_nullable: "NO" })), /^column nat is NOT NULL;/);
  assert.match(
    problem(asFound().filter((c) => c.column_name !== "email")),
    /^column email \(VARCHAR\(1280\) NOT NULL\) is missing; the worker adds only the nullable/,
  );
  assert.match(
    problem(asFound().filter((c) => c.column_name !== "gender")),
    /^column gender \(VARCHAR\(128\)\) is missing/,
    "a first-version column is the table's, not an evolution's",
  );
});
