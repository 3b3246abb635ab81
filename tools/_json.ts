/**
 * JSON values and JSON Schema documents as the schema tools of this folder handle them.
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
/** A JSON object. */
export type JsonObject = { [key: string]: Json };
/** A JSON Schema: an object, or `true` (anything) / `false` (nothing). */
export type JsonSchema = boolean | JsonObject;

/** Whether `value` is a JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Structural equality; the order of an object's keys does not matter, an array's does. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length &&
      a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length &&
    keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/** `path` and one more object key, in JSONPath's notation (`$.user.nat`, `$["a-b"]`). */
export function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)
    ? `${path}.${key}`
    : `${path}[${JSON.stringify(key)}]`;
}

/** A value, shortened for a one-line message. */
export function brief(value: unknown, max = 60): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Where two JSON values differ: each path, with the value on either side (absent: undefined). */
export interface JsonDifference {
  path: string;
  left: Json | undefined;
  right: Json | undefined;
}

/** Every difference between `left` and `right`, as deep as they go, in document order. */
export function jsonDifferences(
  left: Json | undefined,
  right: Json | undefined,
  path = "$",
): JsonDifference[] {
  if (jsonEqual(left, right)) return [];
  if (Array.isArray(left) && Array.isArray(right)) {
    return Array.from(
      { length: Math.max(left.length, right.length) },
      (_, i) => jsonDifferences(left[i], right[i], `${path}[${i}]`),
    ).flat();
  }
  if (isObject(left) && isObject(right)) {
    const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
    return [...keys].flatMap((k) => jsonDifferences(left[k], right[k], childPath(path, k)));
  }
  return [{ path, left, right }];
}
