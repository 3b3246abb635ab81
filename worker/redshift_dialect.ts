/**
 * The `redshift` dialect (Amazon Redshift), which cannot run here: its SQL is tested as text
 * against golden files, and its DDL against `terraform/table_schema.sql`.
 *
 * What it must respect, and how:
 * - Redshift's `MERGE` takes no extra condition on `WHEN MATCHED`, so stale rows (not newer
 *   than the stored one) are deleted from the staging table first, then the merge is
 *   unconditional.
 * - PRIMARY KEY is not enforced: duplicates are prevented by the dedupe and the merge only.
 * - `TRUNCATE` commits the transaction: the staging table is created and dropped inside the
 *   transaction instead.
 * - One statement is limited to 16 MB and 32,767 bind parameters: staging inserts are chunked.
 */
import type { Dialect, SqlStep, TableName } from "./dialect.ts";
import {
  EVENT_COLUMN_LIST,
  insertValues,
  newerThan,
  stageBody,
  tableBody,
  updateSet,
} from "./_sql_text.ts";
import { EVENT_COLUMNS, KEY_COLUMN } from "./table_columns.ts";
import type { UserRow } from "./user_row.ts";
import { placeholders } from "./postgres_dialect.ts";

const MAX_PARAMS = 32_767;
/** Bytes of values per staging statement, well under the 16 MB statement limit. */
const MAX_CHUNK_BYTES = 8 * 1024 * 1024;

/** Creates the redshift dialect for `schema.table`. */
export function createRedshiftDialect(name: TableName): Dialect {
  const target = `${name.schema}.${name.table}`;
  const stage = `${name.table}_stage`;
  const rowsPerInsert = Math.floor(MAX_PARAMS / EVENT_COLUMNS.length);

  return {
    name: "redshift",
    createTable() {
      const ddl = `CREATE TABLE IF NOT EXISTS ${target} (\n${tableBody()}\n)\n` +
        `DISTSTYLE KEY\nDISTKEY (${KEY_COLUMN})\nSORTKEY (${KEY_COLUMN})`;
      return name.schema === "public" ? [ddl] : [`CREATE SCHEMA IF NOT EXISTS ${name.schema}`, ddl];
    },
    upsert(rows: readonly UserRow[], writtenAt: Date): SqlStep[] {
      const steps: SqlStep[] = [{
        kind: "query",
        text: `CREATE TEMP TABLE ${stage} (\n${stageBody()}\n)\nDISTKEY (${KEY_COLUMN})`,
        params: [],
      }];
      for (const chunk of chunks(rows, rowsPerInsert, MAX_CHUNK_BYTES)) {
        steps.push({
          kind: "query",
          text: `INSERT INTO ${stage} (${EVENT_COLUMN_LIST}) VALUES ${placeholders(chunk.length)}`,
          params: chunk.flat(),
        });
      }
      steps.push({
        kind: "query",
        text: `DELETE FROM ${stage}\nUSING ${target}\nWHERE ${stage}.id = ${name.table}.id\n` +
          `  AND NOT ${newerThan(stage, name.table)}`,
        params: [],
      });
      steps.push({
        kind: "query",
        text: `MERGE INTO ${target}\nUSING ${stage}\nON ${name.table}.id = ${stage}.id\n` +
          `WHEN MATCHED THEN\n  UPDATE SET\n    ${
            updateSet(stage, "$1::TIMESTAMPTZ")
          }\nWHEN NOT MATCHED THEN\n  ${insertValues(stage, "$1::TIMESTAMPTZ")}`,
        params: [writtenAt.toISOString()],
      });
      steps.push({ kind: "query", text: `DROP TABLE ${stage}`, params: [] });
      return steps;
    },
  };
}

function* chunks(
  rows: readonly UserRow[],
  maxRows: number,
  maxBytes: number,
): Generator<UserRow[]> {
  let chunk: UserRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    // Characters, an upper bound of a third of the UTF-8 size; generous against the limit.
    const size = row.reduce((n, v) => n + (v?.length ?? 0) * 3 + 8, 0);
    if (chunk.length > 0 && (chunk.length >= maxRows || bytes + size > maxBytes)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
