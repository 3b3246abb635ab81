/**
 * Backward compatibility of two JSON Schemas: is every document valid under the older schema
 * also valid under the newer one? The comparison is structural and conservative: it proves
 * compatibility keyword by keyword and refuses what it cannot prove, naming the rule and the
 * JSONPath of the data where the newer schema refuses what the older one accepted.
 *
 * It reads the draft 2020-12 that `z.toJSONSchema` writes: `type` (one or a list), `anyOf`
 * unions (nullable fields are `anyOf: [X, {type: "null"}]`, nested unions are flattened),
 * `$ref`s into the document (`#/$defs/...`, followed, recursion included), `const`/`enum`,
 * the string, number, array and object keywords, and `not`. Annotations (`description`,
 * `default`, `title`, ...) do not change what is valid and are ignored. Any other keyword must
 * stay exactly as it was.
 *
 * @example
 * ```ts
 * import type { JsonObject, JsonSchema } from "./_json.ts";
 *
 * const closed = (properties: JsonObject): JsonSchema =>
 *   ({ type: "object", properties, additionalProperties: false });
 * schemaIncompatibilities(closed({ a: { type: "string" } }), closed({ a: {}, b: { type: "number" } }));
 * // []: an optional field added to a closed object, and a's type widened
 * schemaIncompatibilities(closed({ a: { type: "string" } }), closed({}));
 * // [{ rule: "removed-field", path: "$.a", message: "field a removed from a closed object" }]
 * ```
 */
import {
  accepts,
  ANNOTATIONS,
  branches,
  declaredTypes,
  deref,
  schemaAt,
  typesOf,
  validation,
  valuesOf,
} from "./_schema_shape.ts";
import {
  brief,
  childPath,
  isObject,
  jsonEqual,
  type JsonObject,
  type JsonSchema,
} from "./_json.ts";

/** The rules, by name: what each refuses. */
export const RULES = {
  "removed-field": "a field of a closed object was removed: older events that carry it are refused",
  "new-required-field": "a field became required: older events without it are refused",
  "changed-type":
    "a type is no longer accepted (a type narrowed, nullable no more, a union branch removed)",
  "narrowed-limit":
    "a limit narrowed (a max lowered, a min raised, an exclusive bound, multipleOf, uniqueItems)",
  "changed-pattern":
    "a pattern was added or changed (regex inclusion is undecidable: any change is refused)",
  "changed-format": "a format was added or changed",
  "removed-value": "an enum value was removed, a const changed, or an enum/const was added",
  "closed-object": "an open object was closed: older events with other fields are refused",
  "changed-not": "a `not` was added or changed",
  "unsupported": "a keyword the checker cannot compare changed, or a $ref it cannot follow",
} as const;

/** A rule's name. */
export type Rule = keyof typeof RULES;

/** One way the newer schema refuses what the older one accepted. */
export interface Incompatibility {
  rule: Rule;
  /** Where in the data, as JSONPath: `$.user.nat`, `$.tags[*]`, `$.*` (any other field). */
  path: string;
  message: string;
}

/** `$.user.nat: changed-type: ...` */
export function formatIncompatibility(i: Incompatibility): string {
  return `${i.path}: ${i.rule}: ${i.message}`;
}

/** Where `$ref`s resolve, when the schemas compared are parts of larger documents. */
export interface CompatOptions {
  /** The document the older schema's `#...` refs point into (default: the older schema). */
  olderRoot?: JsonSchema;
  /** The document the newer schema's `#...` refs point into (default: the newer schema). */
  newerRoot?: JsonSchema;
}

/**
 * Every way `newer` refuses data `older` accepts, as far as the rules can tell; `[]` when
 * `newer` is backward compatible with `older`.
 */
export function schemaIncompatibilities(
  older: JsonSchema,
  newer: JsonSchema,
  options: CompatOptions = {},
): Incompatibility[] {
  const ctx: Ctx = {
    olderRoot: options.olderRoot ?? older,
    newerRoot: options.newerRoot ?? newer,
    inProgress: new Map(),
  };
  return [
    ...new Map(compare(older, newer, "$", ctx).map((i) => [formatIncompatibility(i), i])).values(),
  ];
}

interface Ctx {
  olderRoot: JsonSchema;
  newerRoot: JsonSchema;
  /** Pairs being compared: met again through a recursive `$ref`, a pair is assumed to fit. */
  inProgress: Map<object, Set<object>>;
}

/** Keywords the rules compare. */
const COMPARED = new Set(
  `type const enum maxLength minLength pattern format maximum minimum exclusiveMaximum
  exclusiveMinimum multipleOf items maxItems minItems uniqueItems properties required
  additionalProperties maxProperties minProperties not`.split(/\s+/),
);

function compare(older: JsonSchema, newer: JsonSchema, path: string, ctx: Ctx): Incompatibility[] {
  const o = deref(older, ctx.olderRoot);
  const n = deref(newer, ctx.newerRoot);
  if (typeof o === "string" || typeof n === "string") {
    return [{ rule: "unsupported", path, message: (typeof o === "string" ? o : n) as string }];
  }
  if (o === false || n === true) return [];
  if (!isObject(o) || !isObject(n)) return compareUnions(o, n, path, ctx);
  const seen = ctx.inProgress.get(o) ?? new Set<object>();
  if (seen.has(n)) return [];
  ctx.inProgress.set(o, seen.add(n));
  try {
    return compareUnions(o, n, path, ctx);
  } finally {
    seen.delete(n);
  }
}

/**
 * Each branch of the older union must fit a branch of the newer one. A `type` list on the
 * older side is a union of its types, so `["string", "null"]` matches `anyOf` either way.
 */
function compareUnions(o: JsonSchema, n: JsonSchema, path: string, ctx: Ctx): Incompatibility[] {
  const olds = branches(o, ctx.olderRoot, true);
  const news = branches(n, ctx.newerRoot, false);
  if (olds === undefined || news === undefined) {
    return jsonEqual(validation(o), validation(n)) ? [] : [{
      rule: "unsupported",
      path,
      message: "an anyOf beside keywords it shares with its branches changed; cannot compare",
    }];
  }
  if (olds.length === 1 && news.length === 1) return compareOne(olds[0]!, news[0]!, path, ctx);
  const out: Incompatibility[] = [];
  for (const branch of olds) {
    const tries = news.map((candidate) => compare(branch, candidate, path, ctx));
    if (tries.some((t) => t.length === 0)) continue;
    // Report the one branch of the same type, whose differences say what narrowed.
    const types = typesOf(branch);
    const near = news.length === 1 ? [0] : news.flatMap((c, i) => {
      const t = declaredTypes(c);
      return types === undefined || t === undefined || [...types].some((x) => accepts(t, x))
        ? [i]
        : [];
    });
    if (near.length === 1) out.push(...tries[near[0]!]!);
    else {
      out.push({
        rule: "changed-type",
        path,
        message: `${describeBranch(branch)} (a branch of the older union) fits no branch of ` +
          `the newer schema (${news.map(describeBranch).join(" | ") || "nothing"})`,
      });
    }
  }
  return out;
}

function compareOne(o: JsonObject, n: JsonObject, path: string, ctx: Ctx): Incompatibility[] {
  const out: Incompatibility[] = [];
  const refuse: Refuse = (rule, message) => out.push({ rule, path, message });
  for (const key of new Set([...Object.keys(o), ...Object.keys(n)])) {
    if (ANNOTATIONS.has(key) || COMPARED.has(key) || jsonEqual(o[key], n[key])) continue;
    refuse(
      "unsupported",
      `${key} changed (${brief(o[key])} -> ${brief(n[key])}); cannot tell whether that is ` +
        "compatible: keep it as it was",
    );
  }
  const oldTypes = typesOf(o);
  typeRules(o, n, oldTypes, refuse);
  const applies = (types: string[]) => oldTypes === undefined || types.some((t) => oldTypes.has(t));
  if (applies(["string"])) stringRules(o, n, refuse);
  if (applies(["number", "integer"])) numberRules(o, n, refuse);
  if (applies(["array"])) {
    maxLimit(o, n, "maxItems", refuse);
    minLimit(o, n, "minItems", refuse);
    if (n.uniqueItems === true && o.uniqueItems !== true) {
      refuse("narrowed-limit", "uniqueItems added");
    }
    out.push(...compare(schemaAt(o, "items"), schemaAt(n, "items"), `${path}[*]`, ctx));
  }
  if (applies(["object"])) {
    maxLimit(o, n, "maxProperties", refuse);
    minLimit(o, n, "minProperties", refuse);
    out.push(...compareObjects(o, n, path, ctx));
  }
  if (n.not !== undefined && !jsonEqual(o.not, n.not)) {
    refuse(
      "changed-not",
      o.not === undefined
        ? `not ${brief(n.not)} added`
        : `not changed from ${brief(o.not)} to ${brief(n.not)}`,
    );
  }
  return out;
}

type Refuse = (rule: Rule, message: string) => void;

/** `type`, `const` and `enum`: what the older schema accepted must stay accepted. */
function typeRules(
  o: JsonObject,
  n: JsonObject,
  oldTypes: Set<string> | undefined,
  refuse: Refuse,
): void {
  const newTypes = declaredTypes(n);
  if (newTypes !== undefined) {
    const older = oldTypes === undefined ? "any type" : [...oldTypes].join(", ");
    const lost = oldTypes === undefined
      ? ["any type"]
      : [...oldTypes].filter((t) => !accepts(newTypes, t));
    if (lost.length > 0) {
      refuse(
        "changed-type",
        `${lost.join(", ")} no longer accepted (older: ${older}; newer: ${
          [...newTypes].join(", ")
        })`,
      );
    }
  }
  const oldValues = valuesOf(o);
  const newValues = valuesOf(n);
  if (newValues === undefined) return;
  if (oldValues === undefined) return refuse("removed-value", `now limited to ${brief(newValues)}`);
  const lost = oldValues.filter((v) => !newValues.some((w) => jsonEqual(v, w)));
  if (lost.length === 0) return;
  refuse(
    "removed-value",
    "const" in o && "const" in n
      ? `const changed from ${brief(o.const)} to ${brief(n.const)}`
      : `${brief(lost)} no longer accepted`,
  );
}

/** Lengths, `pattern` and `format`. */
function stringRules(o: JsonObject, n: JsonObject, refuse: Refuse): void {
  maxLimit(o, n, "maxLength", refuse);
  minLimit(o, n, "minLength", refuse);
  if (n.pattern !== undefined && n.pattern !== o.pattern) {
    refuse(
      "changed-pattern",
      o.pattern === undefined
        ? `pattern ${brief(n.pattern)} added`
        : `pattern changed from ${brief(o.pattern)} to ${brief(n.pattern)}`,
    );
  }
  if (n.format !== undefined && n.format !== o.format) {
    refuse(
      "changed-format",
      o.format === undefined
        ? `format ${brief(n.format)} added`
        : `format changed from ${brief(o.format)} to ${brief(n.format)}`,
    );
  }
}

/** Bounds, inclusive or exclusive, and `multipleOf`. */
function numberRules(o: JsonObject, n: JsonObject, refuse: Refuse): void {
  for (const [side, name, inclusive, exclusive, sign] of BOUNDS) {
    const [a, b] = [bound(o, inclusive, exclusive, side), bound(n, inclusive, exclusive, side)];
    if (narrower(a, b, side)) {
      refuse(
        "narrowed-limit",
        `${name} bound ${describeBound(a, sign)} -> ${describeBound(b, sign)}`,
      );
    }
  }
  const [a, b] = [o.multipleOf, n.multipleOf];
  if (typeof b === "number" && !(typeof a === "number" && Number.isInteger(a / b))) {
    refuse("narrowed-limit", `multipleOf ${brief(a ?? "none")} -> ${b}`);
  }
}

const BOUNDS = [
  [-1, "upper", "maximum", "exclusiveMaximum", "<"],
  [1, "lower", "minimum", "exclusiveMinimum", ">"],
] as const;

function compareObjects(o: JsonObject, n: JsonObject, path: string, ctx: Ctx): Incompatibility[] {
  const out: Incompatibility[] = [];
  const oldProps = isObject(o.properties) ? o.properties : {};
  const newProps = isObject(n.properties) ? n.properties : {};
  const oldOther = schemaAt(o, "additionalProperties");
  const newOther = schemaAt(n, "additionalProperties");
  if (newOther === false && oldOther !== false) {
    out.push({
      rule: "closed-object",
      path,
      message: "closed (additionalProperties: false) where the older schema allowed other fields",
    });
  } else if (oldOther !== false) out.push(...compare(oldOther, newOther, `${path}.*`, ctx));
  for (const [name, schema] of Object.entries(oldProps)) {
    const at = childPath(path, name);
    if (name in newProps) {
      out.push(...compare(schema as JsonSchema, newProps[name] as JsonSchema, at, ctx));
    } else if (newOther === false) {
      out.push({
        rule: "removed-field",
        path: at,
        message: `field ${name} removed from a closed object`,
      });
    } else out.push(...compare(schema as JsonSchema, newOther, at, ctx));
  }
  // A field new to the schema: older events had it only where the older object was open.
  for (const [name, schema] of Object.entries(newProps)) {
    if (!(name in oldProps) && oldOther !== false) {
      out.push(...compare(oldOther, schema as JsonSchema, childPath(path, name), ctx));
    }
  }
  const oldRequired = new Set(Array.isArray(o.required) ? o.required : []);
  for (const name of Array.isArray(n.required) ? n.required : []) {
    if (oldRequired.has(name)) continue;
    out.push({
      rule: "new-required-field",
      path: childPath(path, String(name)),
      message: String(name) in oldProps
        ? `field ${name} was optional and is now required`
        : `new required field ${name}`,
    });
  }
  return out;
}

/** A `max...` keyword: absent is no limit; lowering it or adding it narrows. */
function maxLimit(o: JsonObject, n: JsonObject, key: string, refuse: Refuse): void {
  const [a, b] = [o[key], n[key]];
  if (typeof b === "number" && !(typeof a === "number" && a <= b)) {
    refuse(
      "narrowed-limit",
      a === undefined ? `${key} ${b} added` : `${key} lowered from ${a} to ${b}`,
    );
  }
}

/** A `min...` keyword (of a length or count): absent is 0; raising it narrows. */
function minLimit(o: JsonObject, n: JsonObject, key: string, refuse: Refuse): void {
  const a = typeof o[key] === "number" ? o[key] : 0;
  const b = n[key];
  if (typeof b === "number" && b > a) refuse("narrowed-limit", `${key} raised from ${a} to ${b}`);
}

interface Bound {
  value: number;
  exclusive: boolean;
}

/** The tighter of an inclusive and an exclusive bound; `side` -1 for upper, 1 for lower. */
function bound(
  s: JsonObject,
  inclusive: string,
  exclusive: string,
  side: -1 | 1,
): Bound | undefined {
  const bounds: Bound[] = [];
  if (typeof s[inclusive] === "number") bounds.push({ value: s[inclusive], exclusive: false });
  if (typeof s[exclusive] === "number") bounds.push({ value: s[exclusive], exclusive: true });
  return bounds.reduce<Bound | undefined>(
    (best, b) => best === undefined || narrower(best, b, side) ? b : best,
    undefined,
  );
}

/** Whether bound `b` lets through less than bound `a` on its side. */
function narrower(a: Bound | undefined, b: Bound | undefined, side: -1 | 1): boolean {
  if (b === undefined) return false;
  if (a === undefined) return true;
  if (a.value !== b.value) return side === -1 ? b.value < a.value : b.value > a.value;
  return b.exclusive && !a.exclusive;
}

function describeBound(b: Bound | undefined, strict: string): string {
  if (b === undefined) return "none";
  return `${b.exclusive ? strict : `${strict}=`} ${b.value}`;
}

function describeBranch(s: JsonObject): string {
  const values = valuesOf(s);
  if (values !== undefined) return brief(values, 40);
  const types = declaredTypes(s);
  return types === undefined ? "any type" : [...types].join(", ");
}
