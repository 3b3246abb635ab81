/**
 * Values drawn from a JSON Schema, the way a contract fuzzer draws them: strings from their
 * `pattern` (an ECMAScript regex, read with the `u` flag), lengths in code points within
 * `minLength`/`maxLength`, arrays within `minItems`/`maxItems`, numbers within
 * `minimum`/`maximum`, `$ref`s into the document. It knows nothing of the fields: whatever it
 * draws, it draws from the document alone.
 *
 * The regex reader takes the subset contracts should stick to (literals, `\uXXXX` and
 * punctuation escapes, classes, groups, `|`, `*`, `+`, `?`, `{n,m}`, `^`, `$`) and throws on
 * anything else (`\s`, `\d`, `.`, lookaround), which is a finding in itself.
 *
 * @example
 * ```ts
 * import { createRng } from "../testing/rng.ts";
 * declare const doc: object; // the OpenAPI document, whose schemas `$ref` points into
 *
 * const rng = createRng(1);
 * const value = sampleSchema(rng, { $ref: "#/components/schemas/User" }, doc, "max");
 * ```
 */
import type { Rng } from "../testing/rng.ts";

/** How a sample chooses sizes: at random, the smallest allowed, or the largest allowed. */
export type SampleMode = "random" | "min" | "max";

// deno-lint-ignore no-explicit-any
type Schema = any;

type CharSet = { negated: boolean; ranges: [number, number][] };
type Node =
  | { kind: "seq"; items: Node[] }
  | { kind: "alt"; options: Node[] }
  | { kind: "set"; set: CharSet }
  | { kind: "repeat"; node: Node; min: number; max: number }
  | { kind: "anchor" };

/** Code points a negated class draws from: the awkward ones first and foremost. */
const ALPHABET: readonly number[] = [
  ...Array.from({ length: 0x5f }, (_, i) => 0x20 + i), // printable ASCII
  0x00,
  0x01,
  0x09,
  0x0a,
  0x0b,
  0x0c,
  0x0d,
  0x1c,
  0x1f,
  0x7f,
  0x85,
  0x9f,
  0xa0,
  0xad,
  0x1680,
  0x2000,
  0x200a,
  0x200b,
  0x2028,
  0x2029,
  0x202f,
  0x205f,
  0x3000,
  0xfeff,
  0xe9,
  0xdf,
  0x4e2d,
  0x0663,
  0xff10,
  0x202e,
  0xfffd,
  0xffff,
  0xd800,
  0xdbff,
  0xdc00,
  0xdfff,
  0x1f600,
  0x10348,
  0x1d11e,
  0x10ffff,
];

/** Parses `source` (the regex subset above) into a tree. */
function parseRegex(source: string): Node {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`Cannot sample /${source}/: ${what} at ${i}`);
  };
  const escape = (): number => {
    const c = source[i++] ?? fail("trailing backslash");
    if (c === "u") {
      const hex = source.slice(i, i + 4);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
      i += 4;
      return parseInt(hex, 16);
    }
    if (/[A-Za-z0-9]/.test(c)) fail(`unsupported escape \\${c}`);
    return c.codePointAt(0)!;
  };
  /** One literal character: an astral one is two code units of the source. */
  const literal = (): number => {
    const c = source.codePointAt(i)!;
    i += c > 0xffff ? 2 : 1;
    return c;
  };
  const parseClass = (): Node => {
    const set: CharSet = { negated: source[i] === "^", ranges: [] };
    if (set.negated) i++;
    const atom = () => source[i] === "\\" ? (i++, escape()) : literal();
    while (source[i] !== "]") {
      if (i >= source.length) fail("unterminated class");
      const from = atom();
      if (source[i] === "-" && source[i + 1] !== "]") {
        i++;
        set.ranges.push([from, atom()]);
      } else {
        set.ranges.push([from, from]);
      }
    }
    i++;
    return { kind: "set", set };
  };
  const parseAtom = (): Node => {
    const c = source[i]!;
    if (c !== "\\") {
      const code = literal();
      if (c === "^" || c === "$") return { kind: "anchor" };
      if (c === "(") return group();
      if (c === "[") return parseClass();
      if (c === ".") fail("'.' (its meaning differs between engines)");
      return { kind: "set", set: { negated: false, ranges: [[code, code]] } };
    }
    i++;
    const code = escape();
    return { kind: "set", set: { negated: false, ranges: [[code, code]] } };
  };
  const group = (): Node => {
    if (source[i] === "?") {
      if (source[i + 1] !== ":") fail("lookaround");
      i += 2;
    }
    const inner = parseAlt();
    if (source[i++] !== ")") fail("unclosed group");
    return inner;
  };
  const parseQuantified = (): Node => {
    const node = parseAtom();
    const q = source[i];
    if (q === "*" || q === "+" || q === "?") {
      i++;
      return { kind: "repeat", node, min: q === "+" ? 1 : 0, max: q === "?" ? 1 : Infinity };
    }
    const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
    if (!m) return node;
    i += m[0].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
    return { kind: "repeat", node, min, max };
  };
  const parseSeq = (): Node => {
    const items: Node[] = [];
    while (i < source.length && source[i] !== "|" && source[i] !== ")") {
      items.push(parseQuantified());
    }
    return { kind: "seq", items };
  };
  const parseAlt = (): Node => {
    const options = [parseSeq()];
    while (source[i] === "|") {
      i++;
      options.push(parseSeq());
    }
    return options.length === 1 ? options[0]! : { kind: "alt", options };
  };
  const tree = parseAlt();
  if (i !== source.length) fail("unbalanced ')'");
  return tree;
}

const inSet = (set: CharSet, c: number) =>
  set.ranges.some(([a, b]) => c >= a && c <= b) !== set.negated;

/** How one string is drawn: its randomness, its mode, what no character of it may match. */
interface Draw {
  rng: Rng;
  mode: SampleMode;
  /** A `not: { pattern }` of the schema: a character matching it is drawn again. */
  avoid?: RegExp;
}

function pickChar(d: Draw, set: CharSet): string {
  for (;;) {
    const c = pickAny(d.rng, set, d.mode);
    if (!d.avoid?.test(c)) return c;
  }
}

function pickAny(rng: Rng, set: CharSet, mode: SampleMode): string {
  const awkward = ALPHABET.filter((c) => inSet(set, c));
  const astral = awkward.filter((c) => c > 0xffff);
  if (mode === "max" && astral.length > 0) return String.fromCodePoint(rng.pick(astral));
  if (awkward.length > 0 && rng.chance(0.6)) return String.fromCodePoint(rng.pick(awkward));
  if (set.negated) {
    for (;;) {
      const c = rng.int(0x110000);
      if (inSet(set, c)) return String.fromCodePoint(c);
    }
  }
  const [a, b] = rng.pick(set.ranges);
  return String.fromCodePoint(rng.chance(0.3) ? rng.pick([a, b]) : a + rng.int(b - a + 1));
}

/** A part of a drawn string: fixed text, or the characters of an unbounded repeat. */
type Part = { chars: string[]; set?: CharSet; min: number };

function draw(d: Draw, node: Node, out: Part[]): void {
  const { rng, mode } = d;
  switch (node.kind) {
    case "anchor":
      return;
    case "seq":
      for (const item of node.items) draw(d, item, out);
      return;
    case "alt":
      return draw(d, rng.pick(node.options), out);
    case "set":
      out.push({ chars: [pickChar(d, node.set)], min: 1 });
      return;
    case "repeat": {
      const unbounded = node.max === Infinity;
      const max = unbounded ? node.min + 8 : node.max;
      const n = mode === "min"
        ? node.min
        : mode === "max" && !unbounded
        ? node.max
        : node.min + rng.int(max - node.min + 1);
      if (unbounded && node.node.kind === "set") {
        const set = node.node.set;
        out.push({
          chars: Array.from({ length: n }, () => pickChar(d, set)),
          set,
          min: node.min,
        });
        return;
      }
      for (let k = 0; k < n; k++) draw(d, node.node, out);
    }
  }
}

const length = (parts: Part[]) => parts.reduce((n, p) => n + p.chars.length, 0);

/**
 * A string `pattern` matches, with `minLength..maxLength` code points: the shortest the
 * pattern allows in `min` mode, exactly `maxLength` (in 4-byte characters where the pattern
 * allows them) in `max` mode when the pattern can reach it; never one that matches `not`.
 * @throws {Error} for a regex outside the subset, or when no such string is found.
 */
export function sampleString(
  rng: Rng,
  pattern: string,
  opts: { minLength?: number; maxLength?: number; mode: SampleMode; not?: string },
): string {
  const tree = parseRegex(pattern);
  const re = new RegExp(pattern, "u");
  const avoid = opts.not === undefined ? undefined : new RegExp(opts.not, "u");
  const d: Draw = { rng, mode: opts.mode, avoid };
  const min = opts.minLength ?? 0;
  const max = opts.maxLength ?? Infinity;
  for (let attempt = 0; attempt < 100; attempt++) {
    const parts: Part[] = [];
    draw(d, tree, parts);
    const repeats = parts.filter((p) => p.set);
    const target = opts.mode === "max" && max !== Infinity
      ? max
      : opts.mode === "random" && max !== Infinity && rng.chance(0.3)
      ? min + rng.int(max - min + 1)
      : Math.min(max, Math.max(min, length(parts)));
    // Grow or shrink the unbounded repeats (the last one first) towards the target.
    for (let k = repeats.length - 1; k >= 0 && length(parts) < target; k--) {
      const p = repeats[k]!;
      while (length(parts) < target) p.chars.push(pickChar(d, p.set!));
    }
    for (let k = repeats.length - 1; k >= 0 && length(parts) > target; k--) {
      const p = repeats[k]!;
      while (length(parts) > target && p.chars.length > p.min) p.chars.pop();
    }
    const s = parts.map((p) => p.chars.join("")).join("");
    const n = [...s].length;
    if (n >= min && n <= max && re.test(s) && !avoid?.test(s)) return s;
  }
  throw new Error(`Cannot draw a string of ${min}..${max} characters matching /${pattern}/`);
}

/** Follows a local `$ref` (`#/a/b`) into `root`. */
export function resolve(schema: Schema, root: Schema): Schema {
  let s = schema;
  while (s && typeof s.$ref === "string") {
    s = s.$ref.slice(2).split("/").reduce(
      (node: Schema, key: string) => node?.[key.replaceAll("~1", "/").replaceAll("~0", "~")],
      root,
    );
    if (s === undefined) throw new Error(`Cannot resolve ${schema.$ref}`);
  }
  return s;
}

const NUMBERS = [
  0,
  -0,
  1,
  -1,
  42000,
  1.5,
  1e21,
  5e-324,
  2 ** 53 + 2,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
];

/** A value `schema` (inside the document `root`) allows. */
export function sampleSchema(rng: Rng, schema: Schema, root: Schema, mode: SampleMode): unknown {
  const s = resolve(schema, root);
  if (s.const !== undefined) return s.const;
  if (s.enum) return rng.pick(s.enum);
  const options: Schema[] | undefined = s.anyOf ?? s.oneOf;
  if (options) {
    // The largest value of a nullable field is not its null.
    const chosen = mode === "max"
      ? options.find((o) => resolve(o, root).type !== "null")!
      : rng.pick(options);
    return sampleSchema(rng, chosen, root, mode);
  }
  const type = Array.isArray(s.type) ? rng.pick(s.type) : s.type;
  switch (type) {
    case "null":
      return null;
    case "boolean":
      return rng.chance(0.5);
    case "integer":
    case "number": {
      const lo = s.minimum ?? -Infinity;
      const hi = s.maximum ?? Infinity;
      const fits = NUMBERS.filter((n) =>
        n >= lo && n <= hi && (type === "number" || Number.isInteger(n))
      );
      return mode === "max"
        ? Math.max(...fits)
        : mode === "min"
        ? Math.min(...fits)
        : rng.pick(fits);
    }
    case "string":
      if (typeof s.pattern !== "string") throw new Error("a string without pattern: no sampler");
      if (s.not && Object.keys(s.not).join() !== "pattern") {
        throw new Error(`Cannot sample not: ${JSON.stringify(s.not)}`);
      }
      return sampleString(rng, s.pattern, {
        minLength: s.minLength,
        maxLength: s.maxLength,
        mode,
        not: s.not?.pattern,
      });
    case "array": {
      const min = s.minItems ?? 0;
      const max = s.maxItems ?? min + 5;
      const n = mode === "min"
        ? min
        : mode === "max"
        ? max
        : min + rng.int(Math.min(max, min + 5) - min + 1);
      return Array.from({ length: n }, () => sampleSchema(rng, s.items ?? {}, root, mode));
    }
    case "object": {
      const required = new Set<string>(s.required ?? []);
      const out: Record<string, unknown> = {};
      for (const [key, property] of Object.entries(s.properties ?? {})) {
        if (required.has(key) || mode === "max" || (mode === "random" && rng.chance(0.6))) {
          out[key] = sampleSchema(rng, property, root, mode);
        }
      }
      return out;
    }
    default:
      throw new Error(`Cannot sample type ${JSON.stringify(s.type)}`);
  }
}
