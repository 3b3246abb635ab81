import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { encodeEvent, SCHEMA_VERSIONS, type UserEvent } from "../shared/event.ts";
import { testEvent, testUser } from "../testing/users.ts";
import { isObject, type JsonObject } from "./_json.ts";
import {
  closeContentModel,
  formatSchema,
  releasedSchema,
  versionIncompatibilities,
} from "./released_schemas.ts";
import { formatIncompatibility, schemaIncompatibilities } from "./schema_compat.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** Every object schema in `schema` (those with properties), with its JSON path. */
function objectSchemas(schema: unknown, path = "$"): [string, JsonObject][] {
  if (Array.isArray(schema)) return schema.flatMap((s, i) => objectSchemas(s, `${path}[${i}]`));
  if (!isObject(schema)) return [];
  const own: [string, JsonObject][] = "properties" in schema ? [[path, schema]] : [];
  return [
    ...own,
    ...Object.entries(schema).flatMap(([k, v]) => objectSchemas(v, `${path}.${k}`)),
  ];
}

Deno.test("releasedSchema() closes the envelope and the user of every version", () => {
  for (const version of SCHEMA_VERSIONS) {
    const objects = objectSchemas(releasedSchema(version));
    assert.deepEqual(
      objects.map(([path]) => path),
      version === 1 ? ["$", "$.properties.user"] : ["$", "$.$defs.User"],
      `v${version}: z.toJSONSchema writes v2's user (meta id "User") as a $ref into $defs`,
    );
    for (const [path, schema] of objects) {
      assert.equal(schema.additionalProperties, false, `v${version} ${path}`);
    }
  }
});

Deno.test("releasedSchema() names its version in $id, title and description", () => {
  const schema = releasedSchema(2);
  assert.deepEqual(Object.keys(schema).slice(0, 5), [
    "$schema",
    "$id",
    "title",
    "description",
    "type",
  ]);
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(schema.$id, "urn:user-pipeline:schema:user_created:v2");
  assert.equal(schema.title, "user_created event, schema_version 2");
  assert.match(String(schema.description), /schema_version 2\b.*EVENT_SCHEMAS\[2\]/);
});

Deno.test("closeContentModel() closes object schemas at any depth and keeps an explicit additionalProperties", () => {
  const closed = closeContentModel({
    type: "object",
    properties: {
      list: { type: "array", items: { type: "object", properties: {} } },
      either: { anyOf: [{ type: "object" }, { type: "null" }] },
      loose: { type: "object", properties: {}, additionalProperties: {} },
      // A property named like a keyword is a name, not a schema keyword.
      items: { type: "string" },
    },
    required: ["list"],
    $defs: { Thing: { properties: { a: { const: { type: "object" } } } } },
  });
  assert.deepEqual(closed, {
    type: "object",
    properties: {
      list: {
        type: "array",
        items: { type: "object", properties: {}, additionalProperties: false },
      },
      either: { anyOf: [{ type: "object", additionalProperties: false }, { type: "null" }] },
      loose: { type: "object", properties: {}, additionalProperties: {} },
      items: { type: "string" },
    },
    required: ["list"],
    additionalProperties: false,
    $defs: {
      Thing: {
        properties: { a: { const: { type: "object" } } },
        additionalProperties: false,
      },
    },
  });
});

Deno.test("formatSchema() writes what deno fmt keeps: 2-space JSON and a final newline", () => {
  assert.equal(formatSchema({ a: [1], b: {} }), '{\n  "a": [\n    1\n  ],\n  "b": {}\n}\n');
});

Deno.test("the released contracts accept the events the code writes, and refuse an unknown field", () => {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const v1 = ajv.compile(releasedSchema(1));
  const v2 = ajv.compile(releasedSchema(2));
  const at = new Date("2026-11-24T10:00:00.000Z");
  const json = (event: UserEvent): Json => JSON.parse(new TextDecoder().decode(encodeEvent(event)));
  const older = json(testEvent(testUser(1), at));
  const newer = json(testEvent(testUser(2, "0000", { nat: "GB", cell: null }), at));
  assert.equal(older.schema_version, 1);
  assert.equal(newer.schema_version, 2);
  assert.equal(v1(older), true, JSON.stringify(v1.errors));
  assert.equal(v2(newer), true, JSON.stringify(v2.errors));
  assert.equal(
    v2({ ...older, schema_version: 2 }),
    true,
    "a v1 event is a v2 event but for its version",
  );
  assert.equal(
    v1({ ...older, user: { ...older.user, nat: "GB" } }),
    false,
    "closed: v1 has no nat",
  );
  assert.equal(v2({ ...newer, extra: 1 }), false, "closed envelope");
});

Deno.test("versionIncompatibilities() finds the real v1 -> v2 pair compatible, schema_version aside", () => {
  assert.deepEqual(versionIncompatibilities(releasedSchema(1), releasedSchema(2)), []);
  // schema_version's value is the one thing that changes between versions.
  assert.deepEqual(
    schemaIncompatibilities(releasedSchema(1), releasedSchema(2)).map(formatIncompatibility),
    ["$.schema_version: removed-value: const changed from 1 to 2"],
  );
});

Deno.test("versionIncompatibilities() refuses a next version that narrows a v2 field, through the $ref", () => {
  const v2 = releasedSchema(2);
  const v3 = structuredClone(v2) as Json;
  v3.properties.schema_version.const = 3;
  v3.$defs.User.properties.cell.anyOf[0].maxLength = 32;
  delete v3.$defs.User.properties.nat;
  assert.deepEqual(versionIncompatibilities(v2, v3).map(formatIncompatibility), [
    "$.user.nat: removed-field: field nat removed from a closed object",
    "$.user.cell: narrowed-limit: maxLength lowered from 64 to 32",
  ]);
});
