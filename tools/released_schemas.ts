/**
 * The released contracts of the `user_created` event: one JSON Schema file per version,
 * `schemas/user_created.v<N>.json`, generated from `EVENT_SCHEMAS[N]` of `shared/event.ts` as
 * a sender writes an event (zod's `io: "input"`, draft 2020-12) with a closed content model.
 *
 * Closed, because the rule that makes versions safe to add is "every event valid under version
 * N-1 is valid under version N": with `additionalProperties: false` an optional field added in
 * N is compatible (no N-1 event can carry it), while in an open model an N-1 event might carry
 * that name with any value (the rule Confluent Schema Registry applies to JSON Schema). The
 * ingest and the worker still strip unknown keys; the contract is what a version promises.
 *
 * @example
 * ```ts
 * const text = formatSchema(releasedSchema(2)); // the bytes of schemas/user_created.v2.json
 * versionIncompatibilities(releasedSchema(1), releasedSchema(2)); // []
 * ```
 */
import { z } from "zod";
import { EVENT_SCHEMAS, type SchemaVersion } from "../shared/event.ts";
import { isObject, type JsonObject, type JsonSchema } from "./_json.ts";
import { type Incompatibility, schemaIncompatibilities } from "./schema_compat.ts";

/** The folder of the released files, from the project's root. */
export const SCHEMAS_DIR = "schemas";

/** The name of a released file; its one capture group is the version. */
export const SCHEMA_FILE = /^user_created\.v([1-9][0-9]*)\.json$/;

/** The file name of `version`'s contract (`user_created.v2.json`). */
export function schemaFileName(version: number): string {
  return `user_created.v${version}.json`;
}

/** The contract of `version`, as its released file holds it. */
export function releasedSchema(version: SchemaVersion): JsonObject {
  const generated = z.toJSONSchema(EVENT_SCHEMAS[version], {
    io: "input",
    target: "draft-2020-12",
    unrepresentable: "any",
  }) as JsonObject;
  const { $schema, $id: _, title: _t, description: _d, ...rest } = generated;
  return {
    $schema: $schema ?? "https://json-schema.org/draft/2020-12/schema",
    $id: `urn:user-pipeline:schema:user_created:v${version}`,
    title: `user_created event, schema_version ${version}`,
    description: `The user_created event (the JSON value of a record on the user_created ` +
      `topic, keyed by user.id) in schema_version ${version}. Released: generated once from ` +
      `EVENT_SCHEMAS[${version}] in shared/event.ts by \`deno task schemas --write\`, never ` +
      "edited; `deno task check` holds the code to it. Closed: no field but those listed. " +
      "Each version accepts every event of the version before it, but for schema_version.",
    ...closeContentModel(rest) as JsonObject,
  };
}

/** Keywords whose value is one subschema. */
const ONE = new Set(
  `items additionalProperties unevaluatedProperties unevaluatedItems additionalItems not
  contains propertyNames if then else`.split(/\s+/),
);
/** Keywords whose value is a list of subschemas. */
const LIST = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);
/** Keywords whose value maps names to subschemas. */
const MAP = new Set([
  "properties",
  "patternProperties",
  "dependentSchemas",
  "$defs",
  "definitions",
]);

/**
 * `schema` with `additionalProperties: false` on every object schema (one with `type`
 * "object" or `properties`) that does not say otherwise, placed after `properties` and
 * `required`. An explicit `additionalProperties` (a loose zod object) is kept.
 */
export function closeContentModel(schema: JsonSchema): JsonSchema {
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ONE.has(key)) out[key] = closeContentModel(value as JsonSchema);
    else if (LIST.has(key) && Array.isArray(value)) {
      out[key] = value.map((s) => closeContentModel(s as JsonSchema));
    } else if (MAP.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([k, s]) => [k, closeContentModel(s as JsonSchema)]),
      );
    } else out[key] = value;
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (!("additionalProperties" in out) && (types.includes("object") || "properties" in out)) {
    const at = Object.keys(out).findLastIndex((k) => k === "properties" || k === "required");
    const entries = Object.entries(out);
    entries.splice(at + 1, 0, ["additionalProperties", false]);
    return Object.fromEntries(entries);
  }
  return out;
}

/** A released file's text: 2-space JSON and a final newline, as `deno fmt` leaves it. */
export function formatSchema(schema: JsonSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/**
 * Every way version `newer` refuses an event of version `older`, apart from `schema_version`
 * itself: its value is the one thing that changes between versions, so the older schema is
 * compared with the newer one's `schema_version`.
 */
export function versionIncompatibilities(
  older: JsonSchema,
  newer: JsonSchema,
): Incompatibility[] {
  const version = isObject(newer) && isObject(newer.properties)
    ? newer.properties.schema_version
    : undefined;
  const olderAsNewer = isObject(older) && isObject(older.properties) && version !== undefined
    ? { ...older, properties: { ...older.properties, schema_version: version } }
    : older;
  return schemaIncompatibilities(olderAsNewer, newer);
}
