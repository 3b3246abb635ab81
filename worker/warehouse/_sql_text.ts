/**
 * SQL text shared by both dialects, built from `TABLE_COLUMNS`.
 */
import { type Column, EVENT_COLUMNS, KEY_COLUMN, TABLE_COLUMNS } from "./table_columns.ts";

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

/** `id, first_name, …` for the event columns. */
export const EVENT_COLUMN_LIST = EVENT_COLUMNS.map((c) => c.name).join(", ");

/** `first_name = s.first_name, …, updated_at = <writtenAt>`; the key and date_added stay. */
export function updateSet(stage: string, writtenAt: string): string {
  const sets = EVENT_COLUMNS.filter((c) => c.name !== KEY_COLUMN).map((c) =>
    `${c.name} = ${stage}.${c.name}`
  );
  return [...sets, `updated_at = ${writtenAt}`].join(",\n    ");
}
