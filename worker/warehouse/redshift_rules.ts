/**
 * Redshift's own rules, checked on the statements the redshift dialect makes. The stack tests run
 * the same kind of SQL on PostgreSQL, which does not enforce these, and Redshift cannot run here:
 * this check is what stands between a change of `redshift_dialect.ts` and a first failure on the
 * cluster. `redshift_rules_test.ts` runs it over the statements of many kinds of batch.
 *
 * Pure: statements (with the rows the dialect stages) in, violations out; nothing is run. The
 * rules read the dialect's own SQL, not SQL in general: a statement shaped differently (a quoted
 * identifier, a comment between keywords) may escape a rule rather than break it.
 */
import type { SqlStep } from "./dialect.ts";
import { CSV_NULL } from "./csv_row.ts";
import { columnsOfWidth, KEY_COLUMN, WRITE_COLUMNS } from "./table_columns.ts";
import { statementSummary } from "./statement_summary.ts";
import {
  codeOf,
  columnNames,
  escapeRegExp,
  insertedTuples,
  mentions,
  placeholderNumbers,
  utf8Bytes,
} from "./_sql_scan.ts";

/** The rules, by name, each with what it asks and why. */
export const REDSHIFT_RULES = {
  "one-row-per-key": "each MERGE's source holds at most one row per id: Redshift's MERGE " +
    "fails when several source rows match one target row, and it enforces no PRIMARY KEY",
  "redshift-syntax": "no WITH (CTE), no condition on WHEN [NOT] MATCHED (Redshift's MERGE " +
    "takes none), a table as MERGE's source, no ON CONFLICT, no TRUNCATE in a write (it commits)",
  "statement-size": "at most 16 MB per statement (text and bound values) and 32,767 bind " +
    "parameters: Redshift's limits",
  "lock-first": "a transaction after a commit, or one that reads or writes the table, starts " +
    "with LOCK <table>: Redshift takes the snapshot at the first read or write, and a snapshot " +
    "taken before the lock is what fails with 1023",
  "copy-matches-csv": "a COPY reads exactly what csv_row.ts writes: FORMAT AS CSV, GZIP, " +
    "NULL AS the marker, TIMEFORMAT 'auto', MAXERROR 0, nothing that changes values, and the " +
    "stage columns of its rows in the order they are written",
  "add-column-only": "every ALTER TABLE adds one nullable column, outside any write",
  "bound-parameters": "every parameter is bound as $n with n at most the number of values, " +
    "and every value is used (an unused one has no type)",
} as const;

/** A rule's name. */
export type RedshiftRule = keyof typeof REDSHIFT_RULES;

/** One broken rule, naming the statement. */
export interface RuleViolation {
  rule: RedshiftRule;
  /** Where the statement is and what it is: `upsert step 5 (MERGE public.users)`. */
  statement: string;
  message: string;
}

/** A statement run outside any write (`createTable()`, `describeColumns()`, `addColumn()`). */
export interface SetupStatement {
  text: string;
  params?: readonly (string | null)[];
}

/** What the rules read: the table, and statements from one or both places. */
export interface RedshiftStatements {
  /** `schema.table`, as the dialect writes it. */
  target: string;
  /** Statements run outside any write. */
  setup?: readonly SetupStatement[];
  /** The steps of one `upsert`. */
  write?: readonly SqlStep[];
}

/** Redshift's statement limit, in bytes of text and bound values. */
export const MAX_STATEMENT_BYTES = 16 * 1024 * 1024;
/** Redshift's (and the wire protocol's) limit of bind parameters per statement. */
export const MAX_BIND_PARAMETERS = 32_767;

/** COPY options that would read our CSV into other values than it holds, each with why. */
const COPY_FORBIDDEN: readonly [RegExp, string][] = [
  [/\bEMPTYASNULL\b/, "EMPTYASNULL turns the empty string into NULL"],
  [/\bBLANKSASNULL\b/, "BLANKSASNULL turns blank strings into NULL"],
  [/\bACCEPTINVCHARS\b/, "ACCEPTINVCHARS replaces invalid UTF-8 instead of refusing it"],
  [/\bTRUNCATECOLUMNS\b/, "TRUNCATECOLUMNS cuts values too long instead of refusing them"],
  [/\bIGNOREHEADER\b/, "IGNOREHEADER skips rows: csv_row.ts writes no header"],
  [/\bFILLRECORD\b/, "FILLRECORD accepts lines with fields missing"],
  [/\bDELIMITER\b/, "csv_row.ts separates fields with the CSV default, a comma"],
  [/\bQUOTE\b/, "csv_row.ts quotes with the CSV default, a double quote"],
  [/\bESCAPE\b/, "in CSV, csv_row.ts escapes nothing but doubled quotes"],
  [/\bREMOVEQUOTES\b/, "REMOVEQUOTES is not CSV parsing"],
  [/\bMANIFEST\b/, "the COPY reads the write's own prefix, not a manifest"],
];
/** COPY options that must be there, each with why. */
const COPY_REQUIRED: readonly [RegExp, string][] = [
  [/\bFORMAT\s+AS\s+CSV\b/, "FORMAT AS CSV: csv_row.ts writes RFC 4180"],
  [/\bGZIP\b/, "GZIP: gzip_csv_parts.ts compresses every object"],
  [/\bMAXERROR\s+(AS\s+)?0\b/, "MAXERROR 0: a refused field fails the load, never a dropped row"],
];

/** One statement as the rules see it. */
interface _Statement {
  label: string;
  text: string;
  /** `text` as `codeOf` gives it, for keywords. */
  code: string;
  params: readonly (string | null)[];
  step?: SqlStep;
  /** Its transaction within the write (0 before the first commit); undefined outside one. */
  tx?: number;
}

/**
 * Every rule broken by `statements`, in rule order, then statement order.
 * @example
 * ```ts
 * import { createRedshiftDialect } from "./redshift_dialect.ts";
 * import type { UserRow } from "./user_row.ts";
 * declare const rows: UserRow[];
 *
 * const dialect = createRedshiftDialect({ schema: "public", table: "users" });
 * redshiftViolations({ target: "public.users", write: dialect.upsert(rows, new Date()) }); // []
 * ```
 */
export function redshiftViolations(statements: RedshiftStatements): RuleViolation[] {
  const setup = (statements.setup ?? []).map((s, i): _Statement => ({
    label: _label(`setup statement ${i + 1}`, s.text),
    text: s.text,
    code: codeOf(s.text),
    params: s.params ?? [],
  }));
  const write: _Statement[] = [];
  let tx = 0;
  (statements.write ?? []).forEach((step, i) => {
    if (step.kind === "commit") {
      tx++;
      return;
    }
    write.push({
      label: _label(`${step.kind === "undo" ? "undo" : "upsert"} step ${i + 1}`, step.text),
      text: step.text,
      code: codeOf(step.text),
      params: step.kind === "query" ? step.params : [],
      step,
      tx: step.kind === "undo" ? undefined : tx,
    });
  });
  const target = statements.target;
  return [
    ..._oneRowPerKey(write, target),
    ..._redshiftSyntax(setup, write),
    ..._statementSize([...setup, ...write]),
    ..._lockFirst(write, target),
    ..._copyMatchesCsv([...setup, ...write]),
    ..._addColumnOnly(setup, write),
    ..._boundParameters([...setup, ...write]),
  ];
}

/**
 * A stage's ids are read from what fills it: the `$n` bound at the id's place in each INSERT row,
 * and the id of each row of a COPY's objects. Reported on the MERGE that reads the stage.
 */
function _oneRowPerKey(write: readonly _Statement[], target: string): RuleViolation[] {
  const rule = "one-row-per-key";
  const out: RuleViolation[] = [];
  // The ids each stage is filled with, from its INSERTs' parameters and its COPYs' objects.
  const stages = new Map<string, string[]>();
  for (const s of write) {
    const created = /^\s*CREATE\s+TEMP(?:ORARY)?\s+TABLE\s+([\w$.]+)/i.exec(s.text);
    if (created) stages.set(created[1]!, []);
    const filled = /^\s*(?:INSERT\s+INTO|COPY)\s+([\w$.]+)\s*\(/i.exec(s.text);
    if (!filled) continue;
    const ids = stages.get(filled[1]!);
    if (!ids) continue;
    const columns = columnNames(s.text);
    const key = columns.indexOf(KEY_COLUMN);
    if (key < 0) {
      out.push({ rule, statement: s.label, message: `fills a stage without its ${KEY_COLUMN}` });
      continue;
    }
    if (s.step?.kind === "load") {
      for (const row of s.step.objects.rows) ids.push(row[key] ?? "NULL");
      continue;
    }
    for (const tuple of insertedTuples(s.text)) {
      const cell = tuple[key];
      const n = cell === undefined ? undefined : /^\$(\d+)/.exec(cell)?.[1];
      ids.push(n === undefined ? cell ?? "?" : s.params[Number(n) - 1] ?? "NULL");
    }
  }
  for (const s of write) {
    const merge = new RegExp(
      `^\\s*MERGE\\s+INTO\\s+${escapeRegExp(target)}\\s+USING\\s+([\\w$.]+)`,
      "i",
    )
      .exec(s.text);
    if (!merge) continue;
    const ids = stages.get(merge[1]!);
    if (!ids) {
      out.push({
        rule,
        statement: s.label,
        message: `its source ${merge[1]} is not a stage this write creates and fills, so ` +
          `nothing shows it holds one row per ${KEY_COLUMN}`,
      });
      continue;
    }
    const seen = new Set<string>();
    const repeated = new Set<string>();
    for (const id of ids) (seen.has(id) ? repeated : seen).add(id);
    if (repeated.size > 0) {
      const some = [...repeated].slice(0, 3).join(", ");
      out.push({
        rule,
        statement: s.label,
        message: `its source ${merge[1]} holds several rows for ${repeated.size} ` +
          `${KEY_COLUMN}(s) (${some}${repeated.size > 3 ? ", …" : ""}): Redshift's MERGE fails`,
      });
    }
  }
  return out;
}

/** Keywords are read from the code (literals emptied), so a value cannot trip them. */
function _redshiftSyntax(
  setup: readonly _Statement[],
  write: readonly _Statement[],
): RuleViolation[] {
  const rule = "redshift-syntax";
  const out: RuleViolation[] = [];
  const found = (s: _Statement, message: string) => out.push({ rule, statement: s.label, message });
  for (const s of [...setup, ...write]) {
    if (/^WITH\b|\bWITH\s+(RECURSIVE\s+)?[\w$]+\s*(\([^)]*\)\s*)?AS\s*\(/.test(s.code)) {
      found(s, "uses WITH (a CTE)");
    }
    const when = /\bWHEN\s+(NOT\s+)?MATCHED\s+AND\b/.exec(s.code);
    if (when) found(s, `puts a condition on ${when[0]}: Redshift's MERGE takes none`);
    if (/^MERGE\b[\s\S]*?\bUSING\s*\(/.test(s.code)) {
      found(s, "merges from a subquery: Redshift's MERGE takes a table as its source");
    }
    if (/\bON\s+CONFLICT\b/.test(s.code)) found(s, "uses ON CONFLICT, which Redshift lacks");
  }
  for (const s of write) {
    if (/\bTRUNCATE\b/.test(s.code)) {
      found(s, "uses TRUNCATE in a write: Redshift commits the transaction on TRUNCATE");
    }
  }
  return out;
}

/** Rule `statement-size`: load steps count their text only (their values are in S3). */
function _statementSize(statements: readonly _Statement[]): RuleViolation[] {
  const rule = "statement-size";
  const out: RuleViolation[] = [];
  for (const s of statements) {
    const bytes = s.params.reduce((n, v) => n + (v === null ? 0 : utf8Bytes(v)), utf8Bytes(s.text));
    if (bytes > MAX_STATEMENT_BYTES) {
      out.push({
        rule,
        statement: s.label,
        message: `is ${bytes} bytes with its values, over Redshift's ${MAX_STATEMENT_BYTES}`,
      });
    }
    if (s.params.length > MAX_BIND_PARAMETERS) {
      out.push({
        rule,
        statement: s.label,
        message: `binds ${s.params.length} parameters, over ${MAX_BIND_PARAMETERS}`,
      });
    }
  }
  return out;
}

/** Rule `lock-first`: transactions are cut at the `commit` steps; `undo` steps are outside. */
function _lockFirst(write: readonly _Statement[], target: string): RuleViolation[] {
  const rule = "lock-first";
  const out: RuleViolation[] = [];
  const lock = new RegExp(`^LOCK\\s+(TABLE\\s+)?${escapeRegExp(target)}\\s*$`, "i");
  const byTx = new Map<number, _Statement[]>();
  for (const s of write) {
    if (s.tx !== undefined) byTx.set(s.tx, [...byTx.get(s.tx) ?? [], s]);
  }
  for (const [tx, statements] of byTx) {
    const first = statements[0]!;
    if (lock.test(first.text)) continue;
    // `LIKE <table>` reads the table's definition, not its rows: no snapshot of them.
    const touching = statements.find((s) => mentions(s.text.replace(/\bLIKE\s+\S+/gi, ""), target));
    if (tx > 0) {
      out.push({
        rule,
        statement: first.label,
        message: `starts the transaction after a commit, where LOCK ${target} must come first`,
      });
    } else if (touching) {
      out.push({
        rule,
        statement: touching.label,
        message: lock.test(touching.text)
          ? "comes after other statements of its transaction: it must be the first"
          : `reads or writes ${target} in a transaction that does not start with LOCK ${target}`,
      });
    }
  }
  return out;
}

/**
 * Rule `copy-matches-csv`: the options, then the column list against the rows of the load step
 * (`gzip_csv_parts.ts` writes each row, then `trailing`).
 */
function _copyMatchesCsv(statements: readonly _Statement[]): RuleViolation[] {
  const rule = "copy-matches-csv";
  const out: RuleViolation[] = [];
  for (const s of statements) {
    if (!/^COPY\b/.test(s.code)) continue;
    const found = (message: string) => out.push({ rule, statement: s.label, message });
    const from = s.code.search(/\bFROM\b/);
    const options = from < 0 ? "" : s.code.slice(from);
    for (const [pattern, why] of COPY_REQUIRED) {
      if (!pattern.test(options)) found(`lacks ${why}`);
    }
    // Literals are read from the text: the code has them emptied.
    if (!/\bTIMEFORMAT\s+(AS\s+)?'auto'/i.test(s.text)) {
      found("lacks TIMEFORMAT 'auto': timestamps are ISO 8601 text");
    }
    const nullAs = /\bNULL\s+AS\s+'((?:[^']|'')*)'/i.exec(s.text)?.[1];
    if (nullAs !== CSV_NULL) {
      found(`has NULL AS ${nullAs === undefined ? "missing" : `'${nullAs}'`}, not '${CSV_NULL}'`);
    }
    for (const [pattern, why] of COPY_FORBIDDEN) {
      if (pattern.test(options)) found(`has ${pattern.source.replaceAll("\\b", "")}: ${why}`);
    }
    if (s.step?.kind !== "load") {
      found("is not a load step: Redshift's COPY reads the S3 objects the sink uploads");
      continue;
    }
    const { keyPrefix, rows, trailing } = s.step.objects;
    if (!new RegExp(`\\bFROM\\s+'s3://[^/']+/${escapeRegExp(keyPrefix)}'`).test(s.text)) {
      found(`does not read exactly its objects' prefix ${keyPrefix}`);
    }
    const widths = [...new Set(rows.map((r) => r.length))];
    if (widths.length !== 1) {
      found(rows.length === 0 ? "loads no rows" : `loads rows of widths ${widths.join(", ")}`);
      continue;
    }
    const columns = columnNames(s.text);
    const expected = [...columnsOfWidth(widths[0]!), ...WRITE_COLUMNS].map((c) => c.name);
    if (columns.join(",") !== expected.join(",")) {
      found(
        `names (${columns.join(", ")}), but rows ${widths[0]} wide are staged as ` +
          `(${expected.join(", ")})`,
      );
    }
    if (widths[0]! + trailing.length !== columns.length) {
      found(
        `names ${columns.length} columns, but its lines have ${widths[0]} values and ` +
          `${trailing.length} trailing`,
      );
    }
  }
  return out;
}

/** Rule `add-column-only`: no ALTER among a write's steps; one nullable ADD COLUMN in setup. */
function _addColumnOnly(
  setup: readonly _Statement[],
  write: readonly _Statement[],
): RuleViolation[] {
  const rule = "add-column-only";
  const out: RuleViolation[] = [];
  for (const s of write) {
    if (/^ALTER\b/.test(s.code)) {
      out.push({ rule, statement: s.label, message: "alters a table inside a write" });
    }
  }
  for (const s of setup) {
    if (!/^ALTER\b/.test(s.code)) continue;
    const add = /^ALTER\s+TABLE\s+[\w$.]+\s+ADD\s+COLUMN\s+[\w$]+\s+(.+)$/s.exec(s.code);
    const found = (message: string) => out.push({ rule, statement: s.label, message });
    if (!add) found("is not ALTER TABLE … ADD COLUMN");
    else if (/,(?![^(]*\))|\bADD\b/.test(add[1]!)) found("adds more than one column");
    else if (/\bNOT\s+NULL\b/.test(add[1]!)) found("adds a NOT NULL column");
  }
  return out;
}

/** Rule `bound-parameters`, on the code: a `$1` inside a string literal is no parameter. */
function _boundParameters(statements: readonly _Statement[]): RuleViolation[] {
  const rule = "bound-parameters";
  const out: RuleViolation[] = [];
  for (const s of statements) {
    const used = placeholderNumbers(s.code);
    const beyond = [...used].filter((n) => n < 1 || n > s.params.length);
    if (beyond.length > 0) {
      out.push({
        rule,
        statement: s.label,
        message: `uses $${beyond.slice(0, 3).join(", $")} but binds ${s.params.length} values`,
      });
    }
    const unused = s.params.map((_, i) => i + 1).filter((n) => !used.has(n));
    if (unused.length > 0) {
      out.push({
        rule,
        statement: s.label,
        message: `binds ${unused.length} value(s) it never uses ($${
          unused.slice(0, 3).join(", $")
        })`,
      });
    }
  }
  return out;
}

/** `<where> (<operation> <table>)`, or the start of the statement when it is not summarised. */
function _label(where: string, text: string): string {
  const { summary, collection } = statementSummary(text);
  if (collection) return `${where} (${summary})`;
  const line = text.split("\n", 1)[0]!;
  return `${where} (${line.length > 60 ? `${line.slice(0, 60)}…` : line})`;
}
