/**
 * SQL text shared by both dialects, built from `TABLE_COLUMNS` and `EVENT_COLUMNS`.
 */
import {
  type Column,
  columnsOfWidth,
  EVENT_COLUMNS,
  KEY_COLUMN,
  TABLE_COLUMNS,
} from "./table_columns.ts";
import type { UserRow } from "./user_row.ts";

/** `VARCHAR(36)` or `TIMESTAMPTZ`. */
export function columnType(c: Column): string {
  return c.type.kind === "varchar" ? `VARCHAR(${c.type.bytes})` : "TIMESTAMPTZ";
}

/** The column lines of the table's DDL, with NOT NULL and the primary key. */
export function tableBody(): string {
  const lines = TABLE_COLUMNS.map((c) =>
    `  ${c.name} ${columnType(c)}${c.nullable ? "" : " NOT NULL"},`
  );
  return `${lines.join("\n")}\n  PRIMARY KEY (${KEY_COLUMN})`;
}

/** The staging table's column list: event columns, all nullable (the merge target checks). */
export function stageBody(): string {
  return EVENT_COLUMNS.map((c) => `  ${c.name} ${columnType(c)}`).join(",\n");
}

/** `id, first_name, …` for `columns` (default: every event column). */
export function columnList(columns: readonly Column[] = EVENT_COLUMNS): string {
  return columns.map((c) => c.name).join(", ");
}

/**
 * `first_name = s.first_name, …, updated_at = <writtenAt>` for `columns`; the key and
 * date_added stay, and so does every column not in `columns` (a newer version's, which an
 * older event does not know).
 */
export function updateSet(
  stage: string,
  writtenAt: string,
  columns: readonly Column[] = EVENT_COLUMNS,
): string {
  const sets = columns.filter((c) => c.name !== KEY_COLUMN).map((c) =>
    `${c.name} = ${stage}.${c.name}`
  );
  return [...sets, `updated_at = ${writtenAt}`].join(",\n    ");
}

/** The `ALTER TABLE` that adds `column` to `target` (nullable: rows written before have none). */
export function addColumn(target: string, column: Column): string {
  return `ALTER TABLE ${target} ADD COLUMN ${column.name} ${columnType(column)}`;
}

/** What both dialects read the table's columns with: `$1` the schema, `$2` the table. */
export const DESCRIBE_COLUMNS = "SELECT column_name, data_type, character_maximum_length, " +
  "is_nullable\nFROM information_schema.columns\nWHERE table_schema = $1 AND table_name = $2";

/**
 * `rows` grouped by the columns they set (their width), the widest (newest version) first,
 * each group in the order given. One group, the usual case, is `rows` itself.
 */
export function byColumnSet(
  rows: readonly UserRow[],
): { columns: readonly Column[]; rows: readonly UserRow[] }[] {
  const width = rows[0]?.length ?? EVENT_COLUMNS.length;
  if (rows.every((r) => r.length === width)) return [{ columns: columnsOfWidth(width), rows }];
  const groups = new Map<number, UserRow[]>();
  for (const row of rows) {
    const group = groups.get(row.length);
    if (group) group.push(row);
    else groups.set(row.length, [row]);
  }
  return [...groups].sort(([a], [b]) => b - a).map(([w, rs]) => ({
    columns: columnsOfWidth(w),
    rows: rs,
  }));
}
