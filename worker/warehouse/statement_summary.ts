/**
 * A SQL statement's operation and target, for its span: OpenTelemetry's database conventions
 * name a span `<operation> <target>` (`db.query.summary`) and keep the two as
 * `db.operation.name` and `db.collection.name`. Only the statements the dialects write are
 * read this closely; anything else is named by its first word.
 */

/** What a statement does, and to which table. */
export interface StatementSummary {
  /** `MERGE`, `COPY`, `INSERT`, `CREATE TEMP TABLE`, … */
  operation: string;
  /** The table, as written (`public.users`), when there is one. */
  collection?: string;
  /** `<operation> <collection>`, or the operation alone. */
  summary: string;
}

const NAME = String.raw`([\w$."]+)`;
const OPERATIONS: readonly [RegExp, string][] = [
  [new RegExp(String.raw`^MERGE\s+INTO\s+${NAME}`, "i"), "MERGE"],
  [new RegExp(String.raw`^INSERT\s+INTO\s+${NAME}`, "i"), "INSERT"],
  [new RegExp(String.raw`^DELETE\s+FROM\s+${NAME}`, "i"), "DELETE"],
  [new RegExp(String.raw`^UPDATE\s+${NAME}`, "i"), "UPDATE"],
  [new RegExp(String.raw`^COPY\s+${NAME}`, "i"), "COPY"],
  [new RegExp(String.raw`^LOCK\s+(?:TABLE\s+)?${NAME}`, "i"), "LOCK"],
  [
    new RegExp(
      String.raw`^CREATE\s+TEMP(?:ORARY)?\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?${NAME}`,
      "i",
    ),
    "CREATE TEMP TABLE",
  ],
  [new RegExp(String.raw`^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?${NAME}`, "i"), "CREATE TABLE"],
  [
    new RegExp(String.raw`^CREATE\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?${NAME}`, "i"),
    "CREATE SCHEMA",
  ],
  [new RegExp(String.raw`^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?${NAME}`, "i"), "DROP TABLE"],
];

/** Summarises `text`: `MERGE INTO public.users AS t …` gives `MERGE public.users`. */
export function statementSummary(text: string): StatementSummary {
  const statement = text.trimStart();
  for (const [pattern, operation] of OPERATIONS) {
    const match = pattern.exec(statement);
    if (match) {
      return { operation, collection: match[1]!, summary: `${operation} ${match[1]}` };
    }
  }
  const operation = /^\w+/.exec(statement)?.[0]?.toUpperCase() ?? "SQL";
  return { operation, summary: operation };
}
