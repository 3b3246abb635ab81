/**
 * Reading the dialects' SQL text back, for `redshift_rules.ts`. Not a SQL parser: it knows the
 * shapes the dialects write (values bound as parameters, no literal holding a parenthesis in an
 * INSERT, unquoted identifiers), and the rules say so.
 */

/** `text` with string literals emptied (`''`), comments removed, in upper case, from its first word. */
export function codeOf(text: string): string {
  return text.replace(/'(?:[^']|'')*'/g, "''").replace(/--[^\n]*/g, "").trimStart().toUpperCase();
}

/** The column list of `INSERT INTO t (…)` or `COPY t (…)`, lower case; `[]` without one. */
export function columnNames(text: string): string[] {
  const list = /^\s*(?:INSERT\s+INTO|COPY)\s+[\w$.]+\s*\(([^)]*)\)/i.exec(text)?.[1];
  return list === undefined ? [] : list.split(",").map((c) => c.trim().toLowerCase());
}

/** The cells of each row of `INSERT … VALUES (…), (…)`, as written (`$3::VARCHAR`). */
export function insertedTuples(text: string): string[][] {
  const values = /\bVALUES\b/i.exec(text);
  if (!values) return [];
  return [...text.slice(values.index).matchAll(/\(([^()]*)\)/g)].map((m) =>
    m[1]!.split(",").map((c) => c.trim())
  );
}

/** `s` matching itself in a regular expression. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** True when `text` names `table` (`schema.table`), not as part of a longer name. */
export function mentions(text: string, table: string): boolean {
  return new RegExp(`(?<![\\w$.])${escapeRegExp(table)}(?![\\w$])`, "i").test(text);
}

/** The numbers of the `$n` placeholders in `code` (literals already emptied). */
export function placeholderNumbers(code: string): Set<number> {
  return new Set([...code.matchAll(/(?<![\w$])\$(\d+)/g)].map((m) => Number(m[1])));
}

/** The UTF-8 size of `s`, without encoding it. */
export function utf8Bytes(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      // A surrogate pair is one code point of 4 bytes; a lone surrogate becomes U+FFFD (3).
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
