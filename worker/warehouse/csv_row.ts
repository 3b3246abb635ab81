/**
 * One row as a line of CSV (RFC 4180) that Redshift's `COPY … FORMAT AS CSV` and PostgreSQL's
 * `COPY … (FORMAT csv)` both read back to the same values.
 *
 * What must stay true:
 * - NULL is `CSV_NULL`, unquoted, and the COPY names it with `NULL AS`. Every other value
 *   that could be mistaken for it is quoted: the empty string is written `""` (so no engine
 *   can take it for NULL, whatever its empty-field rule), and a value equal to `CSV_NULL` is
 *   quoted too (PostgreSQL documents that a quoted field never matches the NULL string;
 *   Redshift does not say, so the redshift dialect never stages such a batch through S3).
 * - A value holding a quote, the delimiter, LF or CR is quoted, with quotes doubled. Nothing
 *   else is escaped: in CSV mode a backslash is an ordinary character for both engines, and
 *   tabs and non-ASCII text pass as they are (UTF-8 once encoded).
 * - Lines end with LF only.
 */

/** What stands for NULL in the staged CSV (`NULL AS '@NULL@'`). ASCII, no backslash. */
export const CSV_NULL = "@NULL@";

const NEEDS_QUOTES = /[",\n\r]/;

/** One field: `CSV_NULL` for null, quoted where it must be. */
export function csvField(value: string | null): string {
  if (value === null) return CSV_NULL;
  if (value === "" || value === CSV_NULL || NEEDS_QUOTES.test(value)) {
    return `"${value.replaceAll('"', '""')}"`;
  }
  return value;
}

/**
 * The fields of `values`, comma-separated, with the line's LF.
 * @example
 * ```ts
 * csvRow(["a,b", null, "", 'say "hi"']); // 'a,b' quoted, @NULL@, "", quotes doubled + "\n"
 * ```
 */
export function csvRow(values: readonly (string | null)[]): string {
  let line = "";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += ",";
    line += csvField(values[i] ?? null);
  }
  return line + "\n";
}
