/**
 * The rules of a user's fields that JSON Schema cannot say with `type` and `maxLength` alone,
 * written once as regular expressions. `shared/event.ts` validates with these `RegExp`s and
 * the OpenAPI document publishes their `source` as `pattern`, so the contract and the server
 * cannot drift.
 *
 * What must stay true, so that every engine reads a pattern as the server does (ECMAScript
 * with the `u` flag, as JSON Schema validators like ajv do; Python's `re`, which contract
 * fuzzers such as schemathesis generate from; Rust's regex, which schemathesis validates with):
 * - no `\s`, `\d` or `\w`: they mean different sets in different engines; classes are spelled
 *   out with `\uXXXX` escapes and are negated, so that they stay short (Python's generator
 *   walks every code point of a positive range, which takes seconds for the astral planes);
 * - no surrogate escapes, which Rust cannot compile: lone surrogates are refused apart, by
 *   `loneSurrogate`, which a text field must not match (the OpenAPI document publishes it as
 *   `loneSurrogatePortable`, since Python's `re` has no `\p{…}`);
 * - no lookaround and no backreferences; anchored with `^` and `$`.
 *
 * Lengths (`maxLength`) are counted in Unicode code points, as JSON Schema counts them: see
 * `codePointLength`.
 *
 * @example
 * ```ts
 * import { FIELD_PATTERNS } from "./field_patterns.ts";
 * FIELD_PATTERNS.requiredText.test("   "); // false: blank
 * FIELD_PATTERNS.timestamp.test("0000-01-01T00:00:00Z"); // false: no year 0
 * ```
 */

/**
 * What "blank" means: these characters and nothing else are whitespace, exactly the set that
 * ECMAScript's `String.prototype.trim()` removes (WhiteSpace and LineTerminator). Spelled out,
 * as the inside of a class, because `\s` differs between regex engines (Python's also holds
 * U+001C..U+001F and U+0085, and not U+FEFF).
 */
export const WHITESPACE = "\\u0009-\\u000d\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029" +
  "\\u202f\\u205f\\u3000\\ufeff";

/** Controls, the space, the C1 controls and whitespace: never part of a URL. */
const NOT_IN_URL = `\\u0000-\\u0020\\u007f-\\u009f${WHITESPACE}`;

const D31 = "(?:0[1-9]|[12][0-9]|3[01])";
const D30 = "(?:0[1-9]|[12][0-9]|30)";
const D28 = "(?:0[1-9]|1[0-9]|2[0-8])";
/** Month and day in any year (29 February apart). */
const MONTH_DAY = `(?:(?:0[13578]|1[02])-${D31}|(?:0[469]|11)-${D30}|02-${D28})`;
const MONTH_DAY_AFTER_JAN_1 =
  `(?:01-(?:0[2-9]|[12][0-9]|3[01])|(?:0[3578]|1[02])-${D31}|(?:0[469]|11)-${D30}|02-${D28})`;
const MONTH_DAY_BEFORE_DEC_31 =
  `(?:(?:0[13578]|10)-${D31}|12-${D30}|(?:0[469]|11)-${D30}|02-${D28})`;
/** Years 0002..9998. */
const MIDDLE_YEAR = "(?:000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}" +
  "|99[0-8][0-9]|999[0-8])";
/** Leap years 0004..9996 (divisible by 4, and by 400 when by 100; never year 0000). */
const LEAP_YEAR =
  "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)";
const TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?";
const HOURS_MINUTES = "(?:[01][0-9]|2[0-3]):[0-5][0-9]";

/**
 * The regular expressions, compiled with the `u` flag (code points, not UTF-16 code units).
 * Their `source` is what the OpenAPI document publishes as `pattern`.
 */
export const FIELD_PATTERNS = {
  /**
   * Text without U+0000, which PostgreSQL and Redshift cannot store in text (the empty string
   * included). Lone surrogates are `loneSurrogate`'s to refuse.
   */
  // deno-lint-ignore no-control-regex
  text: /^[^\u0000]*$/u,
  /** Text without U+0000 with at least one character that is not `WHITESPACE`. */
  requiredText: new RegExp(`^[${WHITESPACE}]*[^${WHITESPACE}\\u0000][^\\u0000]*$`, "u"),
  /**
   * `local@domain`: 1..64 and 1..255 code points, neither holding whitespace, `@` or U+0000,
   * and no `"` in the local part (any script, as in `zoë@exämple.ch`).
   */
  email: new RegExp(`^[^${WHITESPACE}@"\\u0000]{1,64}@[^${WHITESPACE}@\\u0000]{1,255}$`, "u"),
  /**
   * An `http` or `https` URL (scheme in any case): a host name, or an IPv6 literal in
   * brackets, an optional port, then an optional path, query or fragment without whitespace or
   * controls. No user name or password.
   */
  picture: new RegExp(
    `^[Hh][Tt][Tt][Pp][Ss]?://(?:\\[[0-9A-Fa-f:.]+\\]|[^${NOT_IN_URL}/?#@:\\[\\]\\\\]+)` +
      `(?::[0-9]{1,5})?(?:[/?#][^${NOT_IN_URL}]*)?$`,
    "u",
  ),
  /**
   * An RFC 3339 date-time with seconds and an offset (`Z` or `±hh:mm`) whose instant in UTC
   * lies in years 0001..9999, which PostgreSQL and Redshift can both store: the date lies in
   * 0001-01-01..9999-12-31, on 0001-01-01 the offset is not positive and on 9999-12-31 not
   * negative (an offset is less than a day, so this keeps the instant in range).
   */
  timestamp: new RegExp(
    `^(?:(?:${LEAP_YEAR}-02-29|${MIDDLE_YEAR}-${MONTH_DAY}|0001-${MONTH_DAY_AFTER_JAN_1}` +
      `|9999-${MONTH_DAY_BEFORE_DEC_31})T${TIME}(?:Z|[+-]${HOURS_MINUTES})` +
      `|0001-01-01T${TIME}(?:Z|\\+00:00|-${HOURS_MINUTES})` +
      `|9999-12-31T${TIME}(?:Z|-00:00|\\+${HOURS_MINUTES}))$`,
    "u",
  ),
  /**
   * A lone surrogate, which has no UTF-8 form (it would be stored as U+FFFD): every text field
   * must NOT match it, and the contract says so with `not: { pattern }`. Under the `u` flag a
   * surrogate pair is one astral code point, which is not in `\p{Cs}`. Kept apart from the
   * other patterns because Rust's regex engine (which schemathesis validates with) cannot
   * compile a surrogate range, while it reads `\p{Cs}` as matching nothing, as it should for
   * strings that cannot hold a surrogate.
   */
  loneSurrogate: /\p{Cs}/u,
  /**
   * `loneSurrogate` in a form all three engines compile, for the OpenAPI document: any code
   * point that is not a Unicode scalar value (U+0000..U+D7FF, U+E000..U+10FFFF). It names no
   * surrogate (Rust cannot compile one) and uses no `\p{…}` (Python's `re` has none); the
   * astral range is written with the characters themselves, because `\u{…}` is not Python's
   * and `\U…` not ECMAScript's. ECMAScript (`u` flag) and Python read a lone surrogate as one
   * code point in none of the ranges, so the class matches it, and a pair as one astral code
   * point, which it does not match; for Rust the class is empty, as it should be for strings
   * that cannot hold a surrogate. It matches exactly what `loneSurrogate` matches (tested).
   * Its astral range would be slow to draw from (see above), but it only ever stands under
   * `not`, which generators test drawn strings against.
   * `loneSurrogate` stays what the server and the released event schemas use.
   */
  // deno-lint-ignore no-control-regex -- U+0000 is where the scalar values begin
  loneSurrogatePortable: new RegExp("[^\\u0000-\\ud7ff\\ue000-\\uffff\u{10000}-\u{10ffff}]", "u"),
} as const;

/**
 * The length of `s` in Unicode code points, as JSON Schema's `maxLength` counts (a lone
 * surrogate counts as one). zod's `.max()` counts UTF-16 code units, which is twice as much
 * for an astral character such as 😀.
 */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** True when `s` has at most `max` code points (without counting when it cannot be more). */
export function fitsCodePoints(s: string, max: number): boolean {
  return s.length <= max || codePointLength(s) <= max;
}
