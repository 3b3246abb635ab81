/**
 * The worker evolves the table, never the other way: after `CREATE TABLE IF NOT EXISTS`, it
 * reads the table's columns and adds those a newer event version brought (`TABLE_COLUMNS`),
 * one `ALTER TABLE … ADD COLUMN` each (Redshift adds one column per statement), nullable, each
 * its own transaction, never inside a write.
 *
 * - Several workers may do it at once: the slower one's `ADD COLUMN` fails (PostgreSQL:
 *   `duplicate_column`, 42701; Redshift may also refuse it as a conflict with a concurrent
 *   transaction). After any failed `ADD COLUMN` the columns are read again: when the column is
 *   there, another worker added it and this one goes on; otherwise the error stands.
 * - It never drops, renames or retypes a column. A table that disagrees with the schema in a
 *   way it will not fix (a column of another type or narrower, NOT NULL where an older event
 *   leaves it empty, a column of the first version missing) is a `TableSchemaError` naming
 *   each column, with the runbook in docs/schema.md.
 * - Columns the schema does not know are left alone (the writes name their columns).
 */
import type { Sql } from "postgres";
import type { Dialect } from "./dialect.ts";
import { columnType } from "./_sql_text.ts";
import { type Column, TABLE_COLUMNS } from "./table_columns.ts";

/** The table disagrees with the event schema in a way the worker will not fix. */
export class TableSchemaError extends Error {
  override name = "TableSchemaError";
}

/** One column as `information_schema.columns` describes it. */
export interface FoundColumn {
  column_name: string;
  data_type: string;
  character_maximum_length: number | null;
  is_nullable: "YES" | "NO";
}

/** What a table lacks, and where it disagrees. */
export interface ColumnComparison {
  /** Columns to add: nullable columns of a later version, missing from the table. */
  missing: Column[];
  /** One sentence per column the worker will not fix. */
  problems: string[];
}

const DATA_TYPES = { varchar: "character varying", timestamptz: "timestamp with time zone" };

/** Compares the table's columns with `wanted` (default: `TABLE_COLUMNS`). */
export function compareColumns(
  found: readonly FoundColumn[],
  wanted: readonly Column[] = TABLE_COLUMNS,
): ColumnComparison {
  const byName = new Map(found.map((c) => [c.column_name.toLowerCase(), c]));
  const missing: Column[] = [];
  const problems: string[] = [];
  for (const column of wanted) {
    const f = byName.get(column.name);
    const want = columnType(column);
    if (!f) {
      if (column.nullable && column.since > 1) missing.push(column);
      else {
        problems.push(
          `column ${column.name} (${want}${column.nullable ? "" : " NOT NULL"}) is missing; ` +
            "the worker adds only the nullable columns of a newer event version",
        );
      }
      continue;
    }
    const type = DATA_TYPES[column.type.kind];
    const width = f.character_maximum_length;
    if (f.data_type !== type) {
      problems.push(`column ${column.name} is ${f.data_type}; the worker writes ${want}`);
    } else if (column.type.kind === "varchar" && width !== null && width < column.type.bytes) {
      problems.push(
        `column ${column.name} is VARCHAR(${width}); the worker needs ${want} or wider`,
      );
    }
    if (column.nullable && f.is_nullable === "NO") {
      problems.push(
        `column ${column.name} is NOT NULL; the worker leaves it NULL where an event has no ` +
          "value (or an older version, which does not know it)",
      );
    }
  }
  return { missing, problems };
}

/** What `evolveTable` did. */
export interface Evolved {
  /** Columns this call added (not those another worker added meanwhile). */
  added: string[];
}

/**
 * Adds the missing columns of `TABLE_COLUMNS` to the table of `dialect`.
 * @throws {TableSchemaError} naming each column the worker will not fix.
 */
export async function evolveTable(sql: Sql, dialect: Dialect): Promise<Evolved> {
  const read = async () => {
    const describe = dialect.describeColumns();
    return compareColumns(await sql.unsafe<FoundColumn[]>(describe.text, describe.params));
  };
  let { missing, problems } = await read();
  const added: string[] = [];
  if (problems.length === 0 && missing.length > 0) {
    for (const column of missing) {
      try {
        await sql.unsafe(dialect.addColumn(column));
        added.push(column.name);
      } catch (err) {
        // Another worker added it first (42701), or its transaction conflicted with ours.
        const again = await read();
        if (again.missing.some((c) => c.name === column.name)) throw err;
      }
    }
    ({ missing, problems } = await read());
  }
  for (const column of missing) {
    problems.push(`column ${column.name} is still missing after ALTER TABLE … ADD COLUMN`);
  }
  if (problems.length > 0) {
    const [schema, table] = dialect.describeColumns().params;
    throw new TableSchemaError(
      `The table ${schema}.${table} disagrees with the event schema, and the worker changes ` +
        `no column's type or constraint: ${problems.join("; ")}. See docs/schema.md ` +
        "(when the worker will not change the table)",
    );
  }
  return { added };
}
