/**
 * The `postgres` dialect (the local stack and tests).
 *
 * Each batch is staged in a session-local temporary table (created once per connection,
 * emptied at every commit), by `COPY … FROM STDIN` or by multi-row `INSERT` (see `Staging`),
 * then upserted into the table with one set-based `INSERT … ON CONFLICT (id) DO UPDATE … WHERE
 * <newer>`, whose condition refuses older events.
 *
 * Not `MERGE`: PostgreSQL's `MERGE` does not re-check its `WHEN NOT MATCHED` branch when another
 * transaction inserts the same key first, so two workers writing one new user at once (the
 * overlap of a rebalance: the old owner's last flush and the new owner's first) fail with a
 * unique violation and the batch is retried. `ON CONFLICT` waits for the other insert and then
 * takes the update branch, so concurrent writers of one id cannot fail.
 */
import type { Dialect, SqlStep, TableName } from "./dialect.ts";
import {
  addColumn,
  byColumnSet,
  columnList,
  DESCRIBE_COLUMNS,
  stageBody,
  tableBody,
  updateSet,
} from "./_sql_text.ts";
import { type Column, EVENT_COLUMNS, KEY_COLUMN } from "./table_columns.ts";
import { newerThan } from "../which_event_wins.ts";
import type { UserRow } from "./user_row.ts";

/**
 * How a batch reaches the table: through the staging table by COPY or by multi-row INSERT, or
 * `auto`: below `COPY_MIN_ROWS` rows no staging table at all, one `INSERT … SELECT … FROM
 * (VALUES …)` statement (one round trip, no transaction to open and close, no temporary table to empty at
 * commit: 0.5 ms for a few rows against 2.5 ms staged), COPY from there on (measured faster
 * for large batches, see the benchmarks).
 */
export type Staging = "copy" | "insert" | "auto";

/** Below this many rows, `auto` upserts straight from bound `VALUES`. */
export const COPY_MIN_ROWS = 200;

/** Bind parameters per statement: PostgreSQL allows 65,535, postgres.js 65,534. */
const MAX_PARAMS = 65_534;

/** Creates the postgres dialect for `schema.table`. */
export function createPostgresDialect(
  name: TableName,
  opts: { staging?: Staging } = {},
): Dialect {
  const staging = opts.staging ?? "auto";
  const target = `${name.schema}.${name.table}`;
  const stage = `pg_temp.${name.table}_stage`;
  const createStage = `CREATE TEMP TABLE IF NOT EXISTS ${name.table}_stage (\n${stageBody()}\n)` +
    ` ON COMMIT DELETE ROWS`;
  /** The upsert of `columns` from `source`: only those columns are set on a stored row. */
  const upsertFrom = (source: string, writtenAt: string, columns: readonly Column[]) => {
    const list = columnList(columns);
    return `INSERT INTO ${target} AS t (${list}, date_added, updated_at)\n` +
      `SELECT ${list}, ${writtenAt}, ${writtenAt}\nFROM ${source}\n` +
      `ON CONFLICT (${KEY_COLUMN}) DO UPDATE SET\n    ${
        updateSet("excluded", writtenAt, columns)
      }\n` +
      `  WHERE ${newerThan("excluded", "t")}`;
  };

  /** The steps of one group of rows that set the same columns. */
  const upsertGroup = (
    steps: SqlStep[],
    rows: readonly UserRow[],
    columns: readonly Column[],
    at: string,
    staged: boolean,
  ) => {
    const list = columnList(columns);
    if (!staged) {
      steps.push({
        kind: "query",
        text: upsertFrom(
          `(VALUES ${placeholders(rows.length, columns)}) AS s (${list})`,
          `$${rows.length * columns.length + 1}::timestamptz`,
          columns,
        ),
        params: [...rows.flat(), at],
        counts: "applied",
      });
      return;
    }
    if (staging === "copy" || staging === "auto") {
      steps.push({
        kind: "copy",
        text: `COPY ${stage} (${list}) FROM STDIN`,
        data: copyText(rows),
      });
    } else {
      const rowsPerInsert = Math.floor(MAX_PARAMS / columns.length);
      for (let i = 0; i < rows.length; i += rowsPerInsert) {
        const chunk = rows.slice(i, i + rowsPerInsert);
        steps.push({
          kind: "query",
          text: `INSERT INTO ${stage} (${list}) VALUES ${placeholders(chunk.length, columns)}`,
          params: chunk.flat(),
        });
      }
    }
    steps.push({
      kind: "query",
      text: upsertFrom(`${stage} AS s`, "$1::timestamptz", columns),
      params: [at],
      counts: "applied",
    });
  };

  return {
    name: "postgres",
    createTable() {
      const ddl = `CREATE TABLE IF NOT EXISTS ${target} (\n${tableBody()}\n)`;
      return name.schema === "public" ? [ddl] : [`CREATE SCHEMA IF NOT EXISTS ${name.schema}`, ddl];
    },
    describeColumns: () => ({
      text: DESCRIBE_COLUMNS,
      // Unquoted names are folded to lower case.
      params: [name.schema.toLowerCase(), name.table.toLowerCase()],
    }),
    addColumn: (column) => addColumn(target, column),
    upsert(rows: readonly UserRow[], writtenAt: Date): SqlStep[] {
      const at = writtenAt.toISOString();
      // Rows of an older version set fewer columns: one upsert per set, in one transaction.
      // Ids are unique across the batch, so the groups never touch the same row.
      const groups = byColumnSet(rows);
      const steps: SqlStep[] = [];
      if (staging === "auto" && rows.length < COPY_MIN_ROWS) {
        // One statement per group; one statement alone is one transaction, without BEGIN.
        for (const g of groups) upsertGroup(steps, g.rows, g.columns, at, false);
        return steps;
      }
      steps.push({ kind: "query", text: createStage, params: [] });
      groups.forEach((g, i) => {
        // The stage is emptied at commit; between two groups of one write, by hand.
        if (i > 0) steps.push({ kind: "query", text: `DELETE FROM ${stage}`, params: [] });
        upsertGroup(steps, g.rows, g.columns, at, true);
      });
      return steps;
    },
  };
}

/**
 * Timestamps are bound as text and cast by the warehouse: bound to a `timestamptz` parameter,
 * postgres.js would pass the string through `new Date(x).toISOString()`, which keeps only
 * milliseconds and writes a year past 9999 as `+010000-…`. The row's text (see
 * `toUtcTimestamp`) is what COPY sends too. `VARCHAR`, not `TEXT`, for Redshift.
 */
const CASTS = EVENT_COLUMNS.map((c) =>
  c.type.kind === "timestamptz" ? "::VARCHAR::TIMESTAMPTZ" : ""
);

/** `($1, $2, …), (…)` for `rows` rows of `columns` (a prefix of the event columns). */
export function placeholders(rows: number, columns: readonly Column[] = EVENT_COLUMNS): string {
  const width = columns.length;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < width; c++) cells.push(`$${r * width + c + 1}${CASTS[c]}`);
    out.push(`(${cells.join(", ")})`);
  }
  return out.join(", ");
}

/** Rows in COPY's text format: tab-separated, `\N` for null, backslash escapes. */
export function copyText(rows: readonly UserRow[]): string {
  let out = "";
  for (const row of rows) {
    let line = "";
    for (let i = 0; i < row.length; i++) {
      if (i > 0) line += "\t";
      const v = row[i];
      line += v === null || v === undefined ? "\\N" : escapeCopy(v);
    }
    out += line + "\n";
  }
  return out;
}

const COPY_SPECIAL = /[\\\n\r\t]/;

function escapeCopy(v: string): string {
  if (!COPY_SPECIAL.test(v)) return v;
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll("\r", "\\r")
    .replaceAll("\t", "\\t");
}
