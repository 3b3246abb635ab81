/**
 * What the warehouse applied, as the database saw it: a trigger on the scenario's table logs
 * every row version an upsert inserted or updated. The worker's upsert writes an event only
 * when it is newer than the stored row, so the same event applied twice to one user means a
 * row went back to an older event and forward again (or the newer-wins rule broke): the
 * suite's "duplicated" count. A primary key makes two rows for one id impossible, so counting
 * those would prove nothing.
 */
import type postgres from "postgres";
import { createPostgresDialect } from "../worker/warehouse/postgres_dialect.ts";

/**
 * Creates `schema.users` as the worker would (the worker then finds it), and the log and its
 * trigger beside it.
 */
export async function installAppliedLog(sql: postgres.Sql, schema: string): Promise<void> {
  for (const ddl of createPostgresDialect({ schema, table: "users" }).createTable()) {
    await sql.unsafe(ddl);
  }
  await sql.unsafe(`
    CREATE TABLE IF NOT EXISTS ${schema}.applied_versions (
      id VARCHAR(36) NOT NULL, event_id VARCHAR(36) NOT NULL,
      at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())`);
  await sql.unsafe(`
    CREATE OR REPLACE FUNCTION ${schema}.log_applied() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ${schema}.applied_versions (id, event_id) VALUES (NEW.id, NEW.event_id);
      RETURN NULL;
    END $$`);
  await sql.unsafe(`
    CREATE OR REPLACE TRIGGER applied AFTER INSERT OR UPDATE ON ${schema}.users
    FOR EACH ROW EXECUTE FUNCTION ${schema}.log_applied()`);
}

/** `id/event_id` of every event applied more than once, with the count. */
export async function appliedTwice(
  sql: postgres.Sql,
  schema: string,
): Promise<{ id: string; eventId: string; times: number }[]> {
  const rows = await sql.unsafe(
    `SELECT id, event_id, count(*)::int AS times FROM ${schema}.applied_versions
     GROUP BY id, event_id HAVING count(*) > 1 ORDER BY id LIMIT 1000`,
  );
  return rows.map((r) => ({ id: String(r.id), eventId: String(r.event_id), times: r.times }));
}
