/**
 * The `redshift` dialect (Amazon Redshift), which cannot run here: its SQL is tested as text
 * against golden files, and its DDL against `terraform/table_schema.sql`.
 *
 * A write is two transactions:
 *
 * 1. **Stage**: `CREATE TEMP TABLE <stage> (LIKE <table>)`, then fill it: with `COPY … FROM
 *    's3://…' … FORMAT AS CSV GZIP` from objects the sink uploaded first, when S3 staging is
 *    configured and the batch has at least `minRows` rows; otherwise with chunked multi-row
 *    `INSERT`s. Nothing here touches the table, so it takes no lock that readers wait for.
 * 2. **Merge**: `LOCK <table>` first, then delete stale rows from the stage, `MERGE`, drop the
 *    stage. The lock (ACCESS EXCLUSIVE, held to the commit) makes concurrent workers queue
 *    instead of failing with serializable isolation errors (1023). It must come first: Redshift
 *    takes a transaction's snapshot at its first reading or writing statement, and a snapshot
 *    older than another worker's commit is what conflicts. Readers of the table wait while it
 *    is held, which is why the load happens before, in its own transaction.
 *
 * What else it must respect, and how:
 * - The stage is `LIKE` the table, so it has the table's column types, `ENCODE`, `DISTKEY`
 *   and `SORTKEY` (the merge joins on `id` without redistributing rows) and its `NOT NULL`s,
 *   not its primary key or defaults. `date_added` and `updated_at` are NOT NULL without a
 *   default, so the stage rows carry the write time in both, and the merge takes them from
 *   there.
 * - Its name is unique per write: a stage left by a failed merge (dropped again by the `undo`
 *   step, or gone with the session) never collides with the next one.
 * - Redshift's `MERGE` takes no extra condition on `WHEN MATCHED`, so stale rows (not newer
 *   than the stored one) are deleted from the stage first, then the merge is unconditional.
 * - PRIMARY KEY is not enforced: duplicates are prevented by the dedupe and the merge only.
 * - `TRUNCATE` commits the transaction: never used.
 * - One statement is limited to 16 MB and 32,767 bind parameters: staging inserts are chunked.
 * - The COPY reads exactly what `worker/warehouse/csv_row.ts` writes: CSV (RFC 4180), NULL as
 *   the bare marker `@NULL@`, the empty string as `""` (no `EMPTYASNULL`/`BLANKSASNULL`, so
 *   empty and blank strings stay strings), timestamps in ISO 8601 UTC (`TIMEFORMAT 'auto'`
 *   recognises them), invalid UTF-8 refused (no `ACCEPTINVCHARS`), too-long values refused
 *   (no `TRUNCATECOLUMNS`), no error tolerated (`MAXERROR 0`). A batch holding a value equal
 *   to the marker is staged by INSERT instead, as Redshift does not document whether a quoted
 *   field can match `NULL AS`.
 */
import type { Dialect, SqlStep, TableName } from "./dialect.ts";
import { newerThan } from "../which_event_wins.ts";
import {
  addColumn,
  byColumnSet,
  columnList,
  DESCRIBE_COLUMNS,
  tableBody,
  updateSet,
} from "./_sql_text.ts";
import { type Column, EVENT_COLUMNS, KEY_COLUMN, WRITE_COLUMNS } from "./table_columns.ts";
import type { UserRow } from "./user_row.ts";
import { CSV_NULL } from "./csv_row.ts";

const MAX_PARAMS = 32_767;
/** Bytes of values per staging statement, well under the 16 MB statement limit. */
const MAX_CHUNK_BYTES = 8 * 1024 * 1024;

/** Where and how large flushes are staged through S3. */
export interface RedshiftS3Staging {
  bucket: string;
  /** Key prefix of every staged object, `""` or ending in `/`. */
  prefix: string;
  /** `default` (the cluster's default IAM role) or a role ARN, for `COPY … IAM_ROLE`. */
  iamRole: string;
  /** Batches of at least this many rows are staged through S3, smaller ones by INSERT. */
  minRows: number;
}

/** Options of the redshift dialect. */
export interface RedshiftOptions {
  /** S3 staging; without it every batch is staged by INSERT. */
  s3?: RedshiftS3Staging;
  /**
   * A name unique to one write, `[a-z0-9-]`: the staged objects' folder; its last 12
   * characters name the stage table (default: the write time and a random UUID).
   */
  newWriteId?: (writtenAt: Date) => string;
}

/** The columns a stage of `columns` is filled with: those, then the two write times. */
const stageColumns = (columns: readonly Column[]) => [...columns, ...WRITE_COLUMNS];

/** Creates the redshift dialect for `schema.table`. */
export function createRedshiftDialect(name: TableName, opts: RedshiftOptions = {}): Dialect {
  const target = `${name.schema}.${name.table}`;
  const newWriteId = opts.newWriteId ?? _defaultWriteId;

  return {
    name: "redshift",
    createTable() {
      const ddl = `CREATE TABLE IF NOT EXISTS ${target} (\n${tableBody()}\n)\n` +
        `DISTSTYLE KEY\nDISTKEY (${KEY_COLUMN})\nSORTKEY (${KEY_COLUMN})`;
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
      const id = newWriteId(writtenAt);
      // Rows of an older version set fewer columns: one stage and one MERGE per set (Redshift's
      // MERGE takes no condition on WHEN MATCHED). The newest set's stage has the plain name.
      const groups = byColumnSet(rows).map((g, i) => {
        const version = g.columns.at(-1)!.since;
        const suffix = i === 0 ? "" : `_v${version}`;
        return {
          ...g,
          stage: `${name.table}_stage_${id.slice(-12).replaceAll("-", "_")}${suffix}`,
          folder: i === 0 ? id : `${id}-v${version}`,
        };
      });
      const steps: SqlStep[] = [];
      for (const g of groups) {
        steps.push(
          { kind: "query", text: `CREATE TEMP TABLE ${g.stage} (LIKE ${target})`, params: [] },
          { kind: "undo", text: `DROP TABLE ${g.stage}` },
        );
        const columns = stageColumns(g.columns);
        const s3 = opts.s3 && g.rows.length >= opts.s3.minRows && !g.rows.some(_holdsCsvNull)
          ? opts.s3
          : undefined;
        if (s3) {
          const keyPrefix = `${s3.prefix}${g.folder}/`;
          steps.push({
            kind: "load",
            text: copyFromS3(g.stage, `s3://${s3.bucket}/${keyPrefix}`, s3.iamRole, g.columns),
            objects: { keyPrefix, rows: g.rows, trailing: [at, at] },
          });
          continue;
        }
        // One parameter is the write time, shared by every row of a statement.
        const rowsPerInsert = Math.floor((MAX_PARAMS - 1) / g.columns.length);
        for (const chunk of _chunks(g.rows, rowsPerInsert, MAX_CHUNK_BYTES)) {
          const atParam = chunk.length * g.columns.length + 1;
          steps.push({
            kind: "query",
            text: `INSERT INTO ${g.stage} (${columnList(columns)}) VALUES ${
              _placeholders(chunk.length, atParam, g.columns)
            }`,
            params: [...chunk.flat(), at],
          });
        }
      }
      steps.push(
        { kind: "commit", text: "COMMIT" },
        { kind: "query", text: `LOCK ${target}`, params: [] },
      );
      for (const { stage, columns } of groups) {
        steps.push(
          {
            kind: "query",
            text: `DELETE FROM ${stage}\nUSING ${target}\nWHERE ${stage}.id = ${name.table}.id\n` +
              `  AND NOT ${newerThan(stage, name.table)}`,
            params: [],
            counts: "stale",
          },
          {
            kind: "query",
            text: `MERGE INTO ${target}\nUSING ${stage}\nON ${name.table}.id = ${stage}.id\n` +
              `WHEN MATCHED THEN\n  UPDATE SET\n    ${
                updateSet(stage, `${stage}.updated_at`, columns)
              }\nWHEN NOT MATCHED THEN\n  INSERT (${columnList(stageColumns(columns))})\n` +
              `  VALUES (${stageColumns(columns).map((c) => `${stage}.${c.name}`).join(", ")})`,
            params: [],
          },
        );
      }
      for (const { stage } of groups) {
        steps.push({ kind: "query", text: `DROP TABLE ${stage}`, params: [] });
      }
      return steps;
    },
  };
}

/**
 * The COPY of a stage from every object under `url` (which ends in `/`, so that no other
 * write's prefix can match). See the module's notes for each option.
 */
export function copyFromS3(
  stage: string,
  url: string,
  iamRole: string,
  columns: readonly Column[] = EVENT_COLUMNS,
): string {
  const role = iamRole === "default" ? "default" : `'${iamRole}'`;
  return [
    `COPY ${stage} (${columnList(stageColumns(columns))})`,
    `FROM '${url}'`,
    `IAM_ROLE ${role}`,
    "FORMAT AS CSV",
    "GZIP",
    `NULL AS '${CSV_NULL}'`,
    "TIMEFORMAT 'auto'",
    "COMPUPDATE OFF",
    "STATUPDATE OFF",
    "MAXERROR 0",
  ].join("\n");
}

function _holdsCsvNull(row: UserRow): boolean {
  return row.includes(CSV_NULL);
}

function _defaultWriteId(writtenAt: Date): string {
  const time = writtenAt.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "").toLowerCase();
  return `${time}-${crypto.randomUUID()}`;
}

/**
 * Timestamps are bound as text and cast by the warehouse (see `postgres_dialect.ts`'s
 * `CASTS`); `$<at>` is the write time, the same parameter in every row.
 */
function _placeholders(rows: number, at: number, columns: readonly Column[]): string {
  const width = columns.length;
  const atCast = `$${at}::VARCHAR::TIMESTAMPTZ`;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells = columns.map((c, i) =>
      `$${r * width + i + 1}${c.type.kind === "timestamptz" ? "::VARCHAR::TIMESTAMPTZ" : ""}`
    );
    out.push(`(${cells.join(", ")}, ${atCast}, ${atCast})`);
  }
  return out.join(", ");
}

function* _chunks(
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
