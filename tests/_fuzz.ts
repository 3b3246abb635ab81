/**
 * Fuzz data for the fuzz tests, drawn from the test kit's seeded generator (`testing/rng.ts`):
 * random values, byte mutations and hostile JSON. The same seed gives the same cases, so a
 * failure names its seed and case and can be replayed.
 *
 * @example
 * ```ts
 * import { createRng } from "../testing/rng.ts";
 *
 * const rng = createRng(42);
 * const body = mutateBytes(rng, new TextEncoder().encode('{"a":1}'));
 * ```
 */
import type { Rng } from "../testing/rng.ts";

/** Byte sequences that are not UTF-8: lone continuation, overlong, surrogate, truncated, 0xff. */
export const INVALID_UTF8: readonly (readonly number[])[] = [
  [0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0xff],
  [0xfe, 0xff],
];

/** Strings that have broken parsers, loggers and SQL before. */
export const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "'; DROP TABLE users; --",
  '" OR 1=1 --',
  "\\",
  "\u202e\u0041",
  "\ud800",
  "\uffff",
  "😀".repeat(100),
  "a".repeat(300),
  "é".repeat(200),
  "${jndi:ldap://127.0.0.1/x}",
  "<script>alert(1)</script>",
  "__proto__",
  "constructor",
  "%00%0a",
  "\r\n\r\nHTTP/1.1 200 OK",
  "1e309",
  "-0",
  "NaN",
];

/** JSON tokens spliced into bodies by `mutateBytes`. */
const TOKENS = [
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  '"',
  "null",
  "true",
  "1e999",
  "-",
  "\\u0000",
  "\\ud800",
  '"__proto__":{}',
  "\n",
  "\r\n",
  "\ufeff",
];

/** Applies 1 to `maxEdits` random edits (flip, insert, delete, duplicate, splice a token). */
export function mutateBytes(
  rng: Rng,
  input: Uint8Array,
  maxEdits = 4,
): Uint8Array<ArrayBuffer> {
  let bytes = [...input];
  const edits = 1 + rng.int(maxEdits);
  const encoder = new TextEncoder();
  for (let e = 0; e < edits; e++) {
    const at = rng.int(bytes.length + 1);
    switch (rng.int(6)) {
      case 0: // flip a bit
        if (bytes.length > 0) {
          const i = Math.min(at, bytes.length - 1);
          bytes[i] = bytes[i]! ^ (1 << rng.int(8));
        }
        break;
      case 1: // insert random bytes
        bytes.splice(at, 0, ...rng.bytes(1 + rng.int(4)));
        break;
      case 2: // delete a run
        bytes.splice(at, 1 + rng.int(8));
        break;
      case 3: { // duplicate a slice
        const len = 1 + rng.int(32);
        bytes.splice(at, 0, ...bytes.slice(at, at + len));
        break;
      }
      case 4: // splice a JSON token
        bytes.splice(at, 0, ...encoder.encode(rng.pick(TOKENS)));
        break;
      default: // splice an invalid UTF-8 sequence
        bytes.splice(at, 0, ...rng.pick(INVALID_UTF8));
    }
    if (bytes.length > 1 << 20) bytes = bytes.slice(0, 1 << 20);
  }
  return Uint8Array.from(bytes);
}

/** A random JSON value, at most `depth` levels deep. */
export function randomJson(rng: Rng, depth = 3): unknown {
  const kind = rng.int(depth > 0 ? 8 : 5);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1.5, 1e308, -1e-308, 2 ** 53 + 1, rng.int(1e9)]);
    case 3:
      return rng.pick(HOSTILE_STRINGS);
    case 4:
      return randomText(rng, rng.int(40));
    case 5:
    case 6: {
      const obj: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) {
        obj[rng.pick([...HOSTILE_STRINGS, "id", "email", "user"])] = randomJson(rng, depth - 1);
      }
      return obj;
    }
    default:
      return Array.from({ length: rng.int(5) }, () => randomJson(rng, depth - 1));
  }
}

/** Random text mixing ASCII, accents, emoji, controls and lone surrogates. */
export function randomText(rng: Rng, length: number): string {
  const alphabet = ["a", "Z", "0", " ", "é", "ß", "中", "😀", "\u0000", "\n", '"', "\\", "\ud800"];
  let s = "";
  for (let i = 0; i < length; i++) s += rng.pick(alphabet);
  return s;
}

/** `[[[…]]]` or `{"a":{"a":…}}` nested `depth` levels. */
export function deepJson(kind: "array" | "object", depth: number): string {
  return kind === "array"
    ? "[".repeat(depth) + "]".repeat(depth)
    : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** Counts of cases tried, by category. */
export class FuzzCounts {
  readonly tried = new Map<string, number>();
  readonly outcomes = new Map<string, Map<number, number>>();

  /** Records one case of `category` that answered `status`. */
  add(category: string, status: number): void {
    this.tried.set(category, (this.tried.get(category) ?? 0) + 1);
    const byStatus = this.outcomes.get(category) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.outcomes.set(category, byStatus);
  }

  /** Cases tried in total. */
  total(): number {
    let n = 0;
    for (const v of this.tried.values()) n += v;
    return n;
  }

  /** A table: category, cases, answers by status. */
  table(title: string): string {
    const rows = [...this.tried].map(([category, n]) => {
      const statuses = [...this.outcomes.get(category)!].sort((a, b) => a[0] - b[0])
        .map(([s, c]) => `${s}×${c}`).join(" ");
      return `  ${category.padEnd(24)} ${String(n).padStart(5)}  ${statuses}`;
    });
    return `${title}: ${this.total()} cases\n${rows.join("\n")}`;
  }
}
