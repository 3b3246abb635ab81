import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import {
  LIMITS,
  SCHEMA_VERSION,
  SCHEMA_VERSIONS,
  type SchemaVersion,
  USER_SCHEMAS,
  type UserInput,
} from "../../shared/event.ts";
import { FIELD_PATTERNS } from "../../shared/field_patterns.ts";
import { createIngestApp } from "./app.ts";
import { buildOpenApi } from "./openapi.ts";
import { FakeProducer } from "../../testing/fakes.ts";
import { testConfig } from "../../testing/test_config.ts";
import { sampleUser } from "../../testing/users.ts";
import { releasedSchema } from "../../tools/released_schemas.ts";
import { schemaIncompatibilities } from "../../tools/schema_compat.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const doc = (allowUnsigned = false): Json =>
  buildOpenApi({ maxItems: 7, maxBodyBytes: 4096, allowUnsigned });

/** The string branch of a field (nullable fields are `anyOf: [string, null]`, nested). */
function stringSchema(field: string): Json {
  const find = (s: Json): Json => s.type === "string" ? s : (s.anyOf ?? []).map(find).find(Boolean);
  return find(doc().components.schemas.User.properties[field]);
}

Deno.test("buildOpenApi() publishes the server's own regexes as patterns", () => {
  assert.equal(stringSchema("first_name").pattern, FIELD_PATTERNS.requiredText.source);
  assert.equal(stringSchema("last_name").pattern, FIELD_PATTERNS.requiredText.source);
  assert.equal(stringSchema("first_name").minLength, 1);
  for (const field of ["gender", "address", "username", "phone"]) {
    assert.equal(stringSchema(field).pattern, FIELD_PATTERNS.text.source, field);
  }
  assert.equal(stringSchema("email").pattern, FIELD_PATTERNS.email.source);
  assert.equal(stringSchema("picture").pattern, FIELD_PATTERNS.picture.source);
  assert.equal(stringSchema("dob").pattern, FIELD_PATTERNS.timestamp.source);
  assert.equal(stringSchema("registered_date").pattern, FIELD_PATTERNS.timestamp.source);
  assert.match(stringSchema("dob").description, /years 0001\.\.9999/);
  for (const field of ["first_name", "gender", "post_code", "email", "picture"]) {
    assert.deepEqual(
      stringSchema(field).not,
      { pattern: FIELD_PATTERNS.loneSurrogatePortable.source },
      `${field} refuses lone surrogates (in the form Python's and Rust's engines compile)`,
    );
  }
  // A format the server does not check would make the contract narrower than the server.
  assert.equal(stringSchema("email").format, undefined);
  assert.equal(stringSchema("picture").format, undefined);
});

Deno.test("buildOpenApi() gives every text field its LIMITS as maxLength", () => {
  for (const [field, limit] of Object.entries(LIMITS)) {
    // A UUID and a two-letter nationality code: their patterns fix the length.
    if (field === "id" || field === "nat") continue;
    assert.equal(stringSchema(field).maxLength, limit, field);
  }
  assert.equal(stringSchema("nat").pattern, "^[A-Z]{2}$", "nat: at most LIMITS.nat by its pattern");
  assert.equal(LIMITS.nat, 2);
});

Deno.test("buildOpenApi() publishes the newest user, which every user of every version fits", () => {
  const d = doc();
  const published = d.components.schemas.User;
  assert.deepEqual(
    Object.keys(published.properties),
    Object.keys(USER_SCHEMAS[SCHEMA_VERSION].shape),
  );
  const valid = new Ajv2020({ strict: false, validateFormats: false }).compile(published);
  const { id, first_name, last_name, email } = sampleUser(1);
  const bodies: [SchemaVersion, UserInput][] = [
    [1, sampleUser(1)],
    [1, { id, first_name, last_name, email }],
    [2, sampleUser(2, { nat: "GB", cell: "+44 20 7946 0958" })],
    [2, sampleUser(3, { nat: null, cell: null })],
    [2, sampleUser(4, { cell: "+41 79 123 45 67" })],
  ];
  for (const [version, body] of bodies) {
    const what = `a v${version} body: ${JSON.stringify(body)}`;
    const shape = USER_SCHEMAS[version].shape;
    assert.ok(Object.keys(body).every((k) => k in shape), `only v${version} fields in ${what}`);
    assert.equal(USER_SCHEMAS[version].safeParse(body).success, true, what);
    assert.equal(valid(body), true, `${what}: ${JSON.stringify(valid.errors)}`);
  }
  // Not only these bodies: the published User accepts all that each released user accepts.
  // The released files say "no lone surrogate" with \p{Cs}, the document with its portable
  // form; they match the same strings (shared/field_patterns_test.ts), so the comparison reads
  // the one as the other.
  const { loneSurrogate, loneSurrogatePortable } = FIELD_PATTERNS;
  const asReleased: Json = JSON.parse(
    JSON.stringify(d),
    (key, v) => key === "pattern" && v === loneSurrogatePortable.source ? loneSurrogate.source : v,
  );
  for (const version of SCHEMA_VERSIONS) {
    const released = releasedSchema(version);
    const user = (released.properties as Json).user;
    const options = { olderRoot: released, newerRoot: asReleased };
    assert.deepEqual(
      schemaIncompatibilities(user, asReleased.components.schemas.User, options),
      [],
      `v${version}`,
    );
  }
});

Deno.test("buildOpenApi() takes the NDJSON rules to the request body: a media type has no description", () => {
  const body = doc().paths["/v1/users"].post.requestBody;
  assert.deepEqual(body.content["application/x-ndjson"], {
    schema: { $ref: "#/components/schemas/User" },
  });
  assert.match(body.description, /application\/x-ndjson: one User object per line, 1 to 7 lines/);
});

Deno.test("buildOpenApi() bounds a batch to 1..INGEST_MAX_ITEMS users", () => {
  const body = doc().paths["/v1/users"].post.requestBody.content["application/json"].schema;
  const array = body.oneOf.find((s: Json) => s.type === "array");
  assert.equal(array.minItems, 1);
  assert.equal(array.maxItems, 7);
});

Deno.test("buildOpenApi() lists every status each route answers", () => {
  const statuses = (path: string, method: string) =>
    Object.keys(doc().paths[path][method].responses).sort();
  assert.deepEqual(statuses("/v1/users", "post"), [
    "202",
    "400",
    "401",
    "408",
    "409",
    "413",
    "415",
    "503",
  ]);
  assert.deepEqual(statuses("/v1/pull", "post"), [
    "200",
    "400",
    "401",
    "408",
    "409",
    "413",
    "415",
    "502",
  ]);
  assert.deepEqual(statuses("/readyz", "get"), ["200", "503"]);
  for (const path of ["/v1/pull/runs", "/openapi.json", "/healthz", "/metrics"]) {
    assert.deepEqual(statuses(path, "get"), ["200"], path);
  }
});

Deno.test("buildOpenApi() names the signature headers as a security scheme of the signed routes", () => {
  const d = doc();
  assert.deepEqual(
    Object.values(d.components.securitySchemes).map((s: Json) => [s.type, s.in, s.name]),
    [
      ["apiKey", "header", "webhook-id"],
      ["apiKey", "header", "webhook-timestamp"],
      ["apiKey", "header", "webhook-signature"],
    ],
  );
  const all = { webhookId: [], webhookTimestamp: [], webhookSignature: [] };
  assert.deepEqual(d.paths["/v1/users"].post.security, [all]);
  assert.deepEqual(d.paths["/v1/pull"].post.security, [all]);
  assert.equal(d.paths["/healthz"].get.security, undefined);
  // With INGEST_ALLOW_UNSIGNED the signature is optional (`{}`: no requirement).
  assert.deepEqual(doc(true).paths["/v1/users"].post.security, [all, {}]);
  const params = d.paths["/v1/users"].post.parameters.map((p: Json) => p.name);
  assert.deepEqual(params, ["traceparent"], "the signature headers are not free parameters");
});

Deno.test("GET /openapi.json describes the running configuration", async () => {
  const app = createIngestApp(
    testConfig({ INGEST_MAX_ITEMS: "3", WEBHOOK_SECRET: "", INGEST_ALLOW_UNSIGNED: "true" }),
    { producer: new FakeProducer() },
  );
  try {
    const response = await app.handler(new Request("http://ingest.test/openapi.json"));
    const served = await response.json();
    const post = served.paths["/v1/users"].post;
    assert.equal(
      post.requestBody.content["application/json"].schema.oneOf[1].maxItems,
      3,
    );
    assert.deepEqual(post.security.at(-1), {});
  } finally {
    await app.close();
  }
});
