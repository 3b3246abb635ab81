import assert from "node:assert/strict";
import type { JsonObject, JsonSchema } from "./_json.ts";
import { schemaIncompatibilities } from "./schema_compat.ts";

/** A closed object schema, as the released contracts write every object. */
const closed = (properties: JsonObject, required: string[] = []): JsonObject => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
});
const string = (more: JsonObject = {}): JsonObject => ({ type: "string", ...more });
const nullable = (s: JsonObject): JsonObject => ({ anyOf: [s, { type: "null" }] });

/** The refusals as `path rule`, sorted. */
const refusals = (older: JsonSchema, newer: JsonSchema): string[] =>
  schemaIncompatibilities(older, newer).map((i) => `${i.path} ${i.rule}`).sort();

/** The refusals of a field's schema changing from `older` to `newer` inside a closed object. */
const fieldRefusals = (older: JsonObject, newer: JsonObject): string[] =>
  refusals(closed({ f: older }), closed({ f: newer }));

Deno.test("schemaIncompatibilities() finds an optional field added to a closed object compatible", () => {
  assert.deepEqual(
    refusals(closed({ a: string() }, ["a"]), closed({ a: string(), b: nullable(string()) }, ["a"])),
    [],
  );
});

Deno.test("schemaIncompatibilities() refuses a removed field (removed-field)", () => {
  assert.deepEqual(
    refusals(closed({ a: string(), b: string() }), closed({ a: string() })),
    ["$.b removed-field"],
  );
  // In an open object the field's values fall to additionalProperties: anything goes.
  const open = (properties: JsonObject) => ({ type: "object", properties });
  assert.deepEqual(refusals(open({ a: string(), b: string() }), open({ a: string() })), []);
});

Deno.test("schemaIncompatibilities() refuses a new required field, or an optional one made required (new-required-field)", () => {
  assert.deepEqual(refusals(closed({ a: string() }), closed({ a: string(), b: string() }, ["b"])), [
    "$.b new-required-field",
  ]);
  const [made] = schemaIncompatibilities(closed({ a: string() }), closed({ a: string() }, ["a"]));
  assert.deepEqual(made, {
    rule: "new-required-field",
    path: "$.a",
    message: "field a was optional and is now required",
  });
});

Deno.test("schemaIncompatibilities() refuses a changed type, a nullable field made non-null and a union branch removed (changed-type)", () => {
  assert.deepEqual(fieldRefusals(string(), { type: "number" }), ["$.f changed-type"]);
  assert.deepEqual(fieldRefusals({ type: "number" }, { type: "integer" }), ["$.f changed-type"]);
  const [nonNull] = schemaIncompatibilities(
    closed({ f: nullable(string()) }),
    closed({ f: string() }),
  );
  assert.equal(nonNull?.rule, "changed-type");
  assert.equal(nonNull?.path, "$.f");
  assert.match(nonNull!.message, /^null no longer accepted/);
  assert.deepEqual(
    fieldRefusals({ anyOf: [string(), { type: "number" }, { type: "null" }] }, nullable(string())),
    ["$.f changed-type"],
  );
  // A type list is a union too, either way round.
  assert.deepEqual(fieldRefusals({ type: ["string", "null"] }, string()), ["$.f changed-type"]);
  assert.deepEqual(fieldRefusals({ type: ["string", "null"] }, nullable(string())), []);
  assert.deepEqual(fieldRefusals(nullable(string()), { type: ["string", "null"] }), []);
  // Widening is compatible: integer to number, a type added, a branch added.
  assert.deepEqual(fieldRefusals({ type: "integer" }, { type: "number" }), []);
  assert.deepEqual(fieldRefusals(string(), nullable(string())), []);
});

Deno.test("schemaIncompatibilities() refuses a narrowed limit (narrowed-limit)", () => {
  const cases: [string, JsonObject, JsonObject][] = [
    ["maxLength lowered", string({ maxLength: 64 }), string({ maxLength: 32 })],
    ["maxLength added", string(), string({ maxLength: 32 })],
    ["minLength raised", string({ minLength: 1 }), string({ minLength: 2 })],
    ["maxItems lowered", { type: "array", maxItems: 5 }, { type: "array", maxItems: 4 }],
    ["minItems raised", { type: "array" }, { type: "array", minItems: 1 }],
    ["maximum lowered", { type: "number", maximum: 10 }, { type: "number", maximum: 9.5 }],
    ["minimum raised", { type: "number", minimum: 0 }, { type: "number", minimum: 1 }],
    ["maximum made exclusive", { type: "number", maximum: 10 }, {
      type: "number",
      exclusiveMaximum: 10,
    }],
    ["exclusiveMaximum lowered", { type: "number", exclusiveMaximum: 10 }, {
      type: "number",
      exclusiveMaximum: 9,
    }],
    ["exclusiveMinimum raised", { type: "integer", exclusiveMinimum: 0 }, {
      type: "integer",
      exclusiveMinimum: 1,
    }],
    ["multipleOf added", { type: "number" }, { type: "number", multipleOf: 2 }],
    ["uniqueItems added", { type: "array" }, { type: "array", uniqueItems: true }],
  ];
  for (const [what, older, newer] of cases) {
    assert.deepEqual(fieldRefusals(older, newer), ["$.f narrowed-limit"], what);
  }
  const [lowered] = schemaIncompatibilities(string({ maxLength: 64 }), string({ maxLength: 32 }));
  assert.equal(lowered?.message, "maxLength lowered from 64 to 32");
});

Deno.test("schemaIncompatibilities() finds a widened limit compatible", () => {
  const cases: [string, JsonObject, JsonObject][] = [
    ["maxLength raised", string({ maxLength: 32 }), string({ maxLength: 64 })],
    ["maxLength dropped", string({ maxLength: 32 }), string()],
    ["minLength lowered", string({ minLength: 2 }), string({ minLength: 1 })],
    ["minimum lowered", { type: "number", minimum: 1 }, { type: "number", minimum: 0 }],
    ["exclusive maximum made inclusive", { type: "number", exclusiveMaximum: 10 }, {
      type: "number",
      maximum: 10,
    }],
    ["maximum above an exclusive one", { type: "number", exclusiveMaximum: 10 }, {
      type: "number",
      maximum: 10,
      exclusiveMaximum: 11,
    }],
    ["multipleOf a divisor", { type: "number", multipleOf: 4 }, { type: "number", multipleOf: 2 }],
    ["pattern dropped", string({ pattern: "^a$" }), string()],
    ["format dropped", string({ format: "uuid" }), string()],
  ];
  for (const [what, older, newer] of cases) assert.deepEqual(fieldRefusals(older, newer), [], what);
});

Deno.test("schemaIncompatibilities() refuses any pattern added or changed, even a wider one (changed-pattern)", () => {
  assert.deepEqual(fieldRefusals(string(), string({ pattern: "^a$" })), ["$.f changed-pattern"]);
  // ^(a|b)$ takes more than ^a$, but regex inclusion is undecidable in general: refused.
  assert.deepEqual(fieldRefusals(string({ pattern: "^a$" }), string({ pattern: "^(a|b)$" })), [
    "$.f changed-pattern",
  ]);
  assert.deepEqual(fieldRefusals(string({ pattern: "^a$" }), string({ pattern: "^a$" })), []);
});

Deno.test("schemaIncompatibilities() refuses a format added or changed (changed-format)", () => {
  assert.deepEqual(fieldRefusals(string(), string({ format: "uuid" })), ["$.f changed-format"]);
  assert.deepEqual(fieldRefusals(string({ format: "date" }), string({ format: "date-time" })), [
    "$.f changed-format",
  ]);
});

Deno.test("schemaIncompatibilities() refuses an enum value removed, a const changed or an enum added (removed-value)", () => {
  const e = (...values: string[]) => string({ enum: values });
  assert.deepEqual(fieldRefusals(e("a", "b"), e("a")), ["$.f removed-value"]);
  assert.deepEqual(fieldRefusals(e("a"), e("a", "b")), []);
  const [changed] = schemaIncompatibilities({ const: 1 }, { const: 2 });
  assert.deepEqual(changed, {
    rule: "removed-value",
    path: "$",
    message: "const changed from 1 to 2",
  });
  assert.deepEqual(fieldRefusals(string(), e("a")), ["$.f removed-value"]);
  assert.deepEqual(fieldRefusals(string({ const: "a" }), e("a", "b")), []);
});

Deno.test("schemaIncompatibilities() refuses an open object closed (closed-object)", () => {
  const open = { type: "object", properties: { a: string() } };
  assert.deepEqual(
    refusals({ type: "object", properties: { o: open } }, closed({ o: closed({ a: string() }) })),
    [
      "$ closed-object",
      "$.o closed-object",
    ],
  );
  // The other way, closed to open, widens.
  assert.deepEqual(refusals(closed({ a: string() }), open), []);
  // An open object that gains a field: older events may hold any value under that name.
  assert.deepEqual(refusals(open, { ...open, properties: { a: string(), b: string() } }), [
    "$.b changed-type",
  ]);
});

Deno.test("schemaIncompatibilities() refuses a not added or changed (changed-not), and an unknown keyword changed (unsupported)", () => {
  const storable = string({ not: { pattern: "\\p{Cs}" } });
  assert.deepEqual(fieldRefusals(string(), storable), ["$.f changed-not"]);
  assert.deepEqual(fieldRefusals(storable, string()), []);
  assert.deepEqual(
    fieldRefusals({ oneOf: [string(), { type: "null" }] }, {
      oneOf: [string(), { type: "number" }],
    }),
    ["$.f unsupported"],
  );
});

Deno.test("schemaIncompatibilities() ignores annotations", () => {
  assert.deepEqual(
    fieldRefusals(
      string({ description: "old", title: "t", default: "x", examples: ["a"] }),
      string({ description: "new", $comment: "c" }),
    ),
    [],
  );
});

Deno.test("schemaIncompatibilities() flattens nested unions and names the branch that narrowed", () => {
  // zod writes `z.union([text, number]).nullable()` (post_code) as a union in a union.
  const postCode = (maxLength: number): JsonObject => ({
    anyOf: [{ anyOf: [string({ maxLength }), { type: "number" }] }, { type: "null" }],
  });
  assert.deepEqual(fieldRefusals(postCode(64), postCode(64)), []);
  assert.deepEqual(fieldRefusals(postCode(32), postCode(64)), []);
  const found = schemaIncompatibilities(closed({ f: postCode(64) }), closed({ f: postCode(32) }));
  assert.deepEqual(found, [{
    rule: "narrowed-limit",
    path: "$.f",
    message: "maxLength lowered from 64 to 32",
  }]);
});

Deno.test("schemaIncompatibilities() follows $refs into $defs, recursive ones included", () => {
  const inline = closed({ user: closed({ name: string({ maxLength: 9 }) }) });
  const viaRef = (maxLength: number) => ({
    ...closed({ user: { $ref: "#/$defs/User" } }),
    $defs: { User: closed({ name: string({ maxLength }) }) },
  });
  assert.deepEqual(refusals(inline, viaRef(9)), []);
  assert.deepEqual(refusals(viaRef(9), inline), []);
  assert.deepEqual(refusals(inline, viaRef(8)), ["$.user.name narrowed-limit"]);
  const tree = (maxLength: number) => ({
    $ref: "#/$defs/Node",
    $defs: {
      Node: closed({
        label: string({ maxLength }),
        children: { type: "array", items: { $ref: "#/$defs/Node" } },
      }),
    },
  });
  assert.deepEqual(refusals(tree(5), tree(5)), []);
  // Met again through the recursion, the pair is assumed to fit: the narrowing is named once,
  // where it is first met, and the comparison ends.
  assert.deepEqual(refusals(tree(5), tree(4)), ["$.label narrowed-limit"]);
  assert.deepEqual(refusals({ $ref: "other.json#/x" }, {}), ["$ unsupported"]);
});
