import assert from "node:assert/strict";
import { createPostgresDialect } from "./postgres_dialect.ts";
import { createRedshiftDialect } from "./redshift_dialect.ts";
import { statementSummary } from "./statement_summary.ts";
import { testUser } from "../../testing/users.ts";
import { toUserRow } from "./user_row.ts";
import { testEvent } from "../../testing/users.ts";

Deno.test("statementSummary() names the operation and the table of the dialects' statements", () => {
  const cases: [string, string][] = [
    ["MERGE INTO public.users AS t\nUSING (VALUES ($1))", "MERGE public.users"],
    ["INSERT INTO users_stage_0123 (id, first_name) VALUES ($1, $2)", "INSERT users_stage_0123"],
    ["COPY pg_temp.users_stage (id, first_name) FROM STDIN", "COPY pg_temp.users_stage"],
    [
      "CREATE TEMP TABLE IF NOT EXISTS users_stage (\n  id VARCHAR(36)",
      "CREATE TEMP TABLE users_stage",
    ],
    ["CREATE TEMP TABLE users_stage_0a (LIKE public.users)", "CREATE TEMP TABLE users_stage_0a"],
    ["LOCK public.users", "LOCK public.users"],
    ["DELETE FROM users_stage_0a\nUSING public.users", "DELETE users_stage_0a"],
    ["DROP TABLE users_stage_0a", "DROP TABLE users_stage_0a"],
    ["  select 1", "SELECT"],
    ["", "SQL"],
  ];
  for (const [text, summary] of cases) assert.equal(statementSummary(text).summary, summary, text);
  assert.deepEqual(statementSummary("MERGE INTO s.users AS t"), {
    operation: "MERGE",
    collection: "s.users",
    summary: "MERGE s.users",
  });
});

Deno.test("statementSummary() knows every statement both dialects write for an upsert", () => {
  const rows = Array.from({ length: 300 }, (_, i) => toUserRow(testEvent(testUser(i), new Date())));
  const table = { schema: "public", table: "users" };
  const steps = [
    ...createPostgresDialect(table, { staging: "auto" }).upsert(rows.slice(0, 2), new Date()),
    ...createPostgresDialect(table, { staging: "copy" }).upsert(rows, new Date()),
    ...createPostgresDialect(table, { staging: "insert" }).upsert(rows, new Date()),
    ...createRedshiftDialect(table, {}).upsert(rows, new Date()),
  ];
  for (const step of steps) {
    if (step.kind === "commit") continue;
    assert.ok(statementSummary(step.text).collection, `a table for ${step.text.slice(0, 60)}`);
  }
});
