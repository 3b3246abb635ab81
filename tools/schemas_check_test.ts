import assert from "node:assert/strict";
import { SCHEMA_VERSION, SCHEMA_VERSIONS, type SchemaVersion } from "../shared/event.ts";
import type { JsonObject } from "./_json.ts";
import { formatSchema, releasedSchema } from "./released_schemas.ts";
import { schemaProblems, type SchemaRelease, schemaWrites } from "./schemas_check.ts";

/** A small event of `version`: `schema_version` and the given fields, closed. */
const event = (version: number, fields: JsonObject): JsonObject => ({
  type: "object",
  properties: { schema_version: { type: "number", const: version }, ...fields },
  required: ["schema_version"],
  additionalProperties: false,
});
const text = { type: "string" };
const CODE: Record<number, JsonObject> = {
  1: event(1, { a: text }),
  2: event(2, { a: text, b: text }),
};

function release(
  files: Record<string, string | null>,
  code: Record<number, JsonObject> = CODE,
): SchemaRelease {
  const versions = Object.keys(code).map(Number);
  return {
    versions,
    newest: versions.at(-1)!,
    generated: (version) => code[version]!,
    files: new Map(Object.entries(files)),
  };
}
const V1 = "user_created.v1.json";
const V2 = "user_created.v2.json";
const RELEASED = { [V1]: formatSchema(CODE[1]!), [V2]: formatSchema(CODE[2]!) };
const RELEASE = "release a new version (bump SCHEMA_VERSION, add it to SCHEMA_VERSIONS, run " +
  "`deno task schemas --write`) or undo the change";

Deno.test("schemaProblems() passes released files that the code generates", () => {
  assert.deepEqual(schemaProblems(release(RELEASED)), []);
});

Deno.test("schemaProblems() names a listed version without a file", () => {
  assert.deepEqual(schemaProblems(release({ [V1]: RELEASED[V1] })), [
    "schemas/user_created.v2.json: $: missing: version 2 is in SCHEMA_VERSIONS; run " +
    "`deno task schemas --write`",
  ]);
});

Deno.test("schemaProblems() names each path where the zod schema differs from the released file", () => {
  const changed = { ...CODE, 2: event(2, { a: text, b: { type: "string", maxLength: 5 } }) };
  assert.deepEqual(schemaProblems(release(RELEASED, changed)), [
    "schemas/user_created.v2.json: $.properties.b.maxLength: the zod schema differs from the " +
    `released schemas/user_created.v2.json (file: absent, code: 5): ${RELEASE}`,
  ]);
});

Deno.test("schemaProblems() names a file of a version the code does not list, and anything else in schemas/", () => {
  assert.deepEqual(
    schemaProblems(
      release({ ...RELEASED, "user_created.v3.json": "{}", "notes.md": "", sub: null }),
    ),
    [
      "schemas/notes.md: $: not a released schema (schemas/ holds only user_created.v<N>.json files)",
      "schemas/sub: $: not a released schema (schemas/ holds only user_created.v<N>.json files)",
      "schemas/user_created.v3.json: $: version 3 is not in SCHEMA_VERSIONS (1, 2): a released " +
      "version stays readable; list it again in shared/event.ts, or delete the file if it was " +
      "never released",
    ],
  );
});

Deno.test("schemaProblems() names a version that refuses events of the version before, written or not", () => {
  const narrowed = { ...CODE, 2: event(2, { b: text }) };
  const line = "$.a: removed-field: field a removed from a closed object (not backward " +
    "compatible with version 1)";
  assert.deepEqual(
    schemaProblems(release({ [V1]: RELEASED[V1], [V2]: formatSchema(narrowed[2]!) }, narrowed)),
    [`schemas/user_created.v2.json: ${line}`],
  );
  assert.deepEqual(schemaProblems(release({ [V1]: RELEASED[V1] }, narrowed)), [
    "schemas/user_created.v2.json: $: missing: version 2 is in SCHEMA_VERSIONS; run " +
    "`deno task schemas --write`",
    `schemas/user_created.v2.json (not written yet): ${line}`,
  ]);
});

Deno.test("schemaProblems() names SCHEMA_VERSIONS that are not 1 to SCHEMA_VERSION", () => {
  const gap = release({ [V1]: RELEASED[V1], "user_created.v3.json": formatSchema(event(3, {})) }, {
    1: CODE[1]!,
    3: event(3, { a: text }),
  });
  assert.equal(
    schemaProblems(gap)[0],
    "shared/event.ts: $: SCHEMA_VERSIONS (1, 3) must be 1 to SCHEMA_VERSION (3), in order",
  );
});

Deno.test("schemaWrites() writes the versions without a file and never rewrites a released one", () => {
  assert.deepEqual(schemaWrites(release({ [V1]: RELEASED[V1] }), formatSchema), {
    writes: new Map([["schemas/user_created.v2.json", RELEASED[V2]]]),
    refusals: [],
  });
  assert.deepEqual(schemaWrites(release({}), formatSchema).writes.size, 2);
  const changed = { ...CODE, 2: event(2, { a: text, b: text, c: text }) };
  assert.deepEqual(schemaWrites(release(RELEASED, changed), formatSchema), {
    writes: new Map(),
    refusals: [
      "schemas/user_created.v2.json: $: released, and the zod schema differs from it: --write " +
      `never rewrites a released file; ${RELEASE}`,
    ],
  });
});

Deno.test("schemaWrites() does not write a version that refuses events of the version before", () => {
  const narrowed = { ...CODE, 2: event(2, { b: text }) };
  assert.deepEqual(schemaWrites(release({ [V1]: RELEASED[V1] }, narrowed), formatSchema), {
    writes: new Map(),
    refusals: [
      "schemas/user_created.v2.json: $: not written: version 2 refuses events of the version " +
      "before it (see the problems)",
    ],
  });
});

Deno.test("the project's released schemas match its code", async () => {
  const dir = new URL("../schemas/", import.meta.url);
  const files = new Map<string, string | null>();
  for await (const entry of Deno.readDir(dir)) {
    files.set(entry.name, entry.isFile ? await Deno.readTextFile(new URL(entry.name, dir)) : null);
  }
  assert.deepEqual(
    schemaProblems({
      versions: SCHEMA_VERSIONS,
      newest: SCHEMA_VERSION,
      generated: (version) => releasedSchema(version as SchemaVersion),
      files,
    }),
    [],
  );
});
