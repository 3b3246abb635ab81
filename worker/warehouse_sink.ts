/**
 * The warehouse sink: runs a dialect's steps in one transaction through postgres.js.
 *
 * PostgreSQL and Redshift speak the same wire protocol, so one client serves both; what
 * differs is the SQL, which comes from the dialect.
 */
import type { Sql, TransactionSql } from "postgres";
import type { Dialect, SqlStep } from "./dialect.ts";
import type { UserRow } from "./user_row.ts";
import { toWriteError } from "./write_error.ts";

/** Where valid rows go. */
export interface Sink {
  /**
   * Upserts `rows` (at most one per id) in one transaction.
   * @throws {WriteError} saying whether the write may be retried.
   */
  upsert(rows: readonly UserRow[]): Promise<void>;
}

/** A sink that can also prepare its table and be closed. */
export interface WarehouseSink extends Sink {
  /** Creates the schema and table if missing (idempotent). @throws {WriteError} */
  ensureTable(): Promise<void>;
  /** True when a trivial query answers. */
  ping(): Promise<boolean>;
}

/** Creates a sink on a postgres.js pool. */
export function createWarehouseSink(
  sql: Sql,
  dialect: Dialect,
  deps: { now?: () => Date } = {},
): WarehouseSink {
  const now = deps.now ?? (() => new Date());
  return {
    async ensureTable() {
      try {
        for (const statement of dialect.createTable()) await sql.unsafe(statement);
      } catch (err) {
        throw toWriteError(err);
      }
    },
    async upsert(rows) {
      if (rows.length === 0) return;
      const steps = dialect.upsert(rows, now());
      try {
        if (steps.every((s) => s.kind === "query")) {
          // No COPY: pipeline every statement (postgres.js sends an array of queries at once),
          // so a small batch costs BEGIN + one round trip + COMMIT.
          await sql.begin((tx) =>
            steps.map((s) => tx.unsafe(s.text, s.kind === "query" ? s.params as string[] : []))
          );
        } else {
          await sql.begin(async (tx) => {
            for (const step of steps) await runStep(tx, step);
          });
        }
      } catch (err) {
        throw toWriteError(err);
      }
    },
    async ping() {
      try {
        await sql`select 1`;
        return true;
      } catch {
        return false;
      }
    },
  };
}

async function runStep(tx: TransactionSql, step: SqlStep): Promise<void> {
  if (step.kind === "query") {
    await tx.unsafe(step.text, step.params as string[]);
    return;
  }
  const writable = await tx.unsafe(step.text).writable();
  await new Promise<void>((resolve, reject) => {
    writable.once("error", reject);
    writable.once("finish", () => resolve());
    writable.end(step.data);
  });
}
