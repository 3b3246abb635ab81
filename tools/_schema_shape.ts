/**
 * How `schema_compat.ts` reads a JSON Schema: `$ref`s followed, `anyOf` unions flattened into
 * branches, and the types and values a schema accepts.
 */
import { isObject, type Json, jsonEqual, type JsonObject, type JsonSchema } from "./_json.ts";

/** Keywords that do not change what is valid. */
export const ANNOTATIONS: ReadonlySet<string> = new Set(
  `$schema $id $anchor $dynamicAnchor $comment $defs definitions title description default
  examples deprecated readOnly writeOnly contentEncoding contentMediaType contentSchema id`
    .split(/\s+/),
);

/** `s[key]` as a schema; an absent subschema allows anything. */
export function schemaAt(s: JsonObject, key: string): JsonSchema {
  const v = s[key];
  return v === undefined ? true : (v as JsonSchema);
}

/** The schema a `$ref` points to (siblings merged), or why it cannot be followed. */
export function deref(schema: JsonSchema, root: JsonSchema): JsonSchema | string {
  let s = schema;
  for (let hops = 0; isObject(s) && typeof s.$ref === "string"; hops++) {
    const ref = s.$ref;
    if (hops > 64) return `$ref ${ref}: too many hops`;
    if (!ref.startsWith("#")) return `$ref ${ref} points outside the document`;
    let target: Json | undefined = root;
    for (const raw of ref.slice(1).split("/").slice(1)) {
      const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
      target = isObject(target)
        ? target[key]
        : Array.isArray(target)
        ? target[Number(key)]
        : undefined;
    }
    if (typeof target === "boolean") return target;
    if (!isObject(target)) return `$ref ${ref} points at nothing`;
    const { $ref: _, ...siblings } = s;
    const own = Object.keys(validation(siblings));
    const shared = own.filter((k) => k in target);
    if (shared.length > 0) return `$ref ${ref} beside ${shared.join(", ")}, which it also sets`;
    // Without keywords of its own, a ref is its target, the very object, so that a recursive
    // schema meets the same object again.
    s = own.length === 0 ? target : { ...target, ...siblings };
  }
  return s;
}

/**
 * A schema as a union of branches without `anyOf`; `undefined` when an `anyOf` shares a
 * keyword with its siblings (not merged here). `false` is the empty union.
 */
export function branches(
  schema: JsonSchema,
  root: JsonSchema,
  splitTypes: boolean,
): JsonObject[] | undefined {
  const s = deref(schema, root);
  if (typeof s === "string") return undefined;
  if (s === false) return [];
  if (s === true) return [{}];
  if (Array.isArray(s.anyOf)) {
    const { anyOf, ...rest } = s;
    const base = validation(rest);
    const out: JsonObject[] = [];
    for (const b of anyOf) {
      const sub = branches(b as JsonSchema, root, splitTypes);
      if (sub === undefined) return undefined;
      for (const branch of sub) {
        if (Object.keys(base).some((k) => k in branch)) return undefined;
        out.push(Object.keys(base).length === 0 ? branch : { ...base, ...branch });
      }
    }
    return out;
  }
  if (splitTypes && Array.isArray(s.type) && s.type.length > 1) {
    return s.type.map((type) => ({ ...s, type }));
  }
  return [s];
}

/** A schema without its annotations. */
export function validation<S extends JsonSchema>(s: S): S {
  if (!isObject(s)) return s;
  return Object.fromEntries(Object.entries(s).filter(([k]) => !ANNOTATIONS.has(k))) as S;
}

/** The types a schema declares with `type`; `undefined` for any type. */
export function declaredTypes(s: JsonObject): Set<string> | undefined {
  if (typeof s.type === "string") return new Set([s.type]);
  if (Array.isArray(s.type)) return new Set(s.type.map(String));
  return undefined;
}

/** The types a schema accepts: its `type`, or the types of its `const`/`enum` values. */
export function typesOf(s: JsonObject): Set<string> | undefined {
  const declared = declaredTypes(s);
  const values = valuesOf(s);
  if (values === undefined) return declared;
  return new Set(
    values.map(jsonType).filter((t) => declared === undefined || accepts(declared, t)),
  );
}

/** Whether a set of types takes values of type `t` (an integer is a number). */
export function accepts(types: Set<string>, t: string): boolean {
  return types.has(t) || (t === "integer" && types.has("number"));
}

/** The values a schema is limited to by `const` and `enum`, if it is. */
export function valuesOf(s: JsonObject): Json[] | undefined {
  const e = Array.isArray(s.enum) ? s.enum : undefined;
  if (!("const" in s)) return e;
  return e === undefined || e.some((v) => jsonEqual(v, s.const)) ? [s.const!] : [];
}

/** The JSON Schema type of a value (`integer` for a whole number). */
export function jsonType(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}
