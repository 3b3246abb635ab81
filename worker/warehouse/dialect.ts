/**
 * The SQL that differs between warehouses, behind one small interface. A dialect only makes
 * text; the sink runs it. That keeps the Redshift SQL testable as text (golden files) on a
 * machine without Redshift.
 */
import type { UserRow } from "./user_row.ts";
import type { Column } from "./table_columns.ts";

/** Rows the sink uploads as gzip CSV objects under `keyPrefix` before the write starts. */
export interface StagedRows {
  /** The objects' key prefix, unique to this write and ending in `/` (COPY loads all of it). */
  keyPrefix: string;
  rows: readonly UserRow[];
  /** Values appended to every row (the stage's write-time columns). */
  trailing: readonly (string | null)[];
}

/**
 * One step of a write, run in order. A write is one transaction unless it holds `commit`
 * steps, which end a transaction and begin the next (their text is for readers: the sink
 * commits through its client).
 *
 * - `query`: a statement with bind parameters. `counts` says what its row count means:
 *   `applied`, the rows the upsert inserted or updated (the rest were stale); `stale`, the rows
 *   it found stale (the stored row is as new or newer) and left out of the upsert.
 * - `copy`: `COPY … FROM STDIN` with `data` as its input.
 * - `load`: a statement that reads objects the sink uploads before the first transaction
 *   (`COPY … FROM 's3://…'`); the sink deletes them when the write has ended, either way.
 * - `undo`: not run in order: once its transaction has committed, it runs (outside any
 *   transaction, best effort) if a later transaction of the same write fails, e.g. to drop
 *   a staging table the failed transaction would have dropped.
 */
export type SqlStep =
  | {
    kind: "query";
    text: string;
    params: readonly (string | null)[];
    counts?: "applied" | "stale";
  }
  | { kind: "copy"; text: string; data: string }
  | { kind: "load"; text: string; objects: StagedRows }
  | { kind: "commit"; text: "COMMIT" }
  | { kind: "undo"; text: string };

/** The SQL of one warehouse. */
export interface Dialect {
  readonly name: "postgres" | "redshift";
  /** Idempotent DDL that creates the schema and the table if missing, one statement each. */
  createTable(): string[];
  /**
   * The query that lists the table's columns (`column_name`, `data_type`,
   * `character_maximum_length`, `is_nullable`), to compare with `TABLE_COLUMNS`.
   */
  describeColumns(): { text: string; params: string[] };
  /** `ALTER TABLE … ADD COLUMN` for one missing column (nullable, outside any write). */
  addColumn(column: Column): string;
  /**
   * The steps that upsert `rows` (at most one per id): stage, then merge. A row sets the
   * columns its width says (`user_row.ts`); the others of a stored row stay as they are.
   * `writtenAt` becomes `updated_at` (and `date_added` for new rows).
   */
  upsert(rows: readonly UserRow[], writtenAt: Date): SqlStep[];
}

/** Where the table lives. */
export interface TableName {
  schema: string;
  table: string;
}
