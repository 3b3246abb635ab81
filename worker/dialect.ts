/**
 * The SQL that differs between warehouses, behind one small interface. A dialect only makes
 * text; the sink runs it. That keeps the Redshift SQL testable as text (golden files) on a
 * machine without Redshift.
 */
import type { UserRow } from "./user_row.ts";

/** One step of a write, run in order inside one transaction. */
export type SqlStep =
  | { kind: "query"; text: string; params: readonly (string | null)[] }
  | { kind: "copy"; text: string; data: string };

/** The SQL of one warehouse. */
export interface Dialect {
  readonly name: "postgres" | "redshift";
  /** Idempotent DDL that creates the schema and the table if missing, one statement each. */
  createTable(): string[];
  /**
   * The steps that upsert `rows` (at most one per id) in one transaction: stage, then merge.
   * `writtenAt` becomes `updated_at` (and `date_added` for new rows).
   */
  upsert(rows: readonly UserRow[], writtenAt: Date): SqlStep[];
}

/** Where the table lives. */
export interface TableName {
  schema: string;
  table: string;
}
