/**
 * The console's `WarehouseSource` on postgres.js (PostgreSQL or Redshift): one connection, each
 * look-up in a read-only transaction, so that the console cannot change the table even with a
 * user that could.
 */
import postgres from "postgres";
import type { WarehouseRow, WarehouseSource } from "./warehouse_source.ts";

/** Creates the reader; it connects on first use. `schema` and `table` are SQL identifiers. */
export function createWarehouseReader(
  url: string,
  table: { schema: string; table: string },
): WarehouseSource {
  const sql = postgres(url, {
    max: 1,
    connect_timeout: 5,
    idle_timeout: 60,
    fetch_types: false,
    onnotice: () => {},
    connection: { application_name: "user-pipeline-console" },
  });
  // Identifiers were validated by the configuration (lower-case letters, digits, _).
  const from = `"${table.schema}"."${table.table}"`;
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
  return {
    async row(id) {
      try {
        const rows = await sql.begin("read only", (tx) =>
          tx.unsafe(
            `select id, event_id, source, event_time, date_added, updated_at from ${from} ` +
              `where id = $1`,
            [id],
          ));
        const r = rows[0];
        if (!r) return undefined;
        return {
          id: String(r.id),
          event_id: String(r.event_id),
          source: String(r.source),
          event_time: iso(r.event_time),
          date_added: iso(r.date_added),
          updated_at: iso(r.updated_at),
        } satisfies WarehouseRow;
      } catch (err) {
        if ((err as { code?: string }).code === "42P01") return undefined; // no table yet
        throw err;
      }
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
