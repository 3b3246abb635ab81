/**
 * The published contract against the server, as a contract fuzzer (schemathesis) holds them:
 * request bodies drawn from `GET /openapi.json`'s own schemas, seeded (CONTRACT_SEED overrides
 * the seed), must all be answered 202 by the in-process app with a fake producer, and every
 * event produced must fit the warehouse's columns. Bodies just outside the document's bounds
 * must get a 400 problem that names the field (413 for one user too many).
 */
import assert from "node:assert/strict";
import { Ajv } from "ajv";
import { decodeEvent } from "../shared/event.ts";
import { createIngestApp, type IngestApp } from "../ingest/http/app.ts";
import { FakeProducer } from "../testing/fakes.ts";
import { testConfig } from "../testing/test_config.ts";
import { signedRequest } from "../testing/webhook.ts";
import { EVENT_COLUMNS } from "../worker/warehouse/table_columns.ts";
import { toUserRow } from "../worker/warehouse/user_row.ts";
import { createRng, type Rng } from "../testing/rng.ts";
import { resolve, type SampleMode, sampleSchema, sampleString } from "./_schema_sample.ts";

const SEED = Number(Deno.env.get("CONTRACT_SEED") ?? 20261124);
const RANDOM_CASES = 300;
const MAX_ITEMS = 20;
const MAX_BODY_BYTES = 1024 * 1024;
const encoder = new TextEncoder();

// deno-lint-ignore no-explicit-any
type Json = any;

interface Contract {
  app: IngestApp;
  producer: FakeProducer;
  doc: Json;
  user: Json;
  array: Json;
  /** Validates a body against the document's request schema (the sampler's own check). */
  valid(body: unknown): boolean;
  [Symbol.asyncDispose](): Promise<void>;
}

async function contract(): Promise<Contract> {
  const producer = new FakeProducer();
  const app = createIngestApp(
    testConfig({
      INGEST_MAX_ITEMS: String(MAX_ITEMS),
      INGEST_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    }),
    { producer },
  );
  const doc = await (await app.handler(new Request("http://ingest.test/openapi.json"))).json();
  const body = doc.paths["/v1/users"].post.requestBody.content["application/json"].schema;
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema(doc, "openapi.json");
  const validate = ajv.compile({
    $ref: "openapi.json#/paths/~1v1~1users/post/requestBody/content/application~1json/schema",
  });
  return {
    app,
    producer,
    doc,
    user: body.oneOf.find((s: Json) => s.$ref),
    array: body.oneOf.find((s: Json) => s.type === "array"),
    valid: (b) => validate(b) as boolean,
    [Symbol.asyncDispose]: () => app.close(),
  };
}

type Shape = "object" | "array" | "ndjson";

/** One request drawn from the document: its users and how they travel. */
function drawRequest(
  rng: Rng,
  c: Contract,
  shape: Shape,
  mode: SampleMode,
): { users: unknown[]; body: string; contentType: string } {
  if (shape === "object") {
    const user = sampleSchema(rng, c.user, c.doc, mode);
    return { users: [user], body: JSON.stringify(user), contentType: "application/json" };
  }
  const users = sampleSchema(rng, c.array, c.doc, mode) as unknown[];
  return shape === "array"
    ? { users, body: JSON.stringify(users), contentType: "application/json" }
    : {
      users,
      body: users.map((u) => JSON.stringify(u)).join("\n"),
      contentType: "application/x-ndjson",
    };
}

const WIDTHS = EVENT_COLUMNS.flatMap((column, index) =>
  column.type.kind === "varchar" ? [{ index, name: column.name, bytes: column.type.bytes }] : []
);
const TIMESTAMPS = EVENT_COLUMNS.flatMap((column, index) =>
  column.type.kind === "timestamptz" ? [{ index, name: column.name }] : []
);
/** What both warehouses read: UTC, a four-digit year from 0001, at most microseconds. */
const STORABLE_TIMESTAMP =
  /^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$/;

Deno.test("every request drawn from GET /openapi.json is accepted with 202 and fits the warehouse", async () => {
  await using c = await contract();
  const rng = createRng(SEED);
  const cases: { what: string; shape: Shape; mode: SampleMode }[] = [];
  for (const shape of ["object", "array", "ndjson"] as const) {
    for (const mode of ["min", "max"] as const) {
      cases.push({ what: `${mode} ${shape}`, shape, mode });
    }
  }
  for (let i = 0; i < RANDOM_CASES; i++) {
    const shape = rng.pick(["object", "array", "ndjson"] as const);
    cases.push({ what: `random ${shape} #${i}`, shape, mode: "random" });
  }
  const sizes = new Set<number>();
  let produced = 0;
  for (const [n, k] of cases.entries()) {
    const { users, body, contentType } = drawRequest(rng, c, k.shape, k.mode);
    const where = `seed ${SEED}, case ${n} (${k.what}): ${body.slice(0, 300)}`;
    assert.ok(c.valid(k.shape === "array" ? users : users[0]), `the document allows ${where}`);
    assert.ok(encoder.encode(body).length <= MAX_BODY_BYTES, `within the body limit: ${where}`);
    const before = c.producer.messages.length;
    const response = await c.app.handler(await signedRequest(body, { contentType }));
    assert.equal(response.status, 202, `${where}\n→ ${await response.clone().text()}`);
    assert.equal((await response.json()).accepted, users.length, where);
    for (const message of c.producer.messages.slice(before)) {
      const decoded = decodeEvent(message.value);
      assert.ok(decoded.ok, `the worker takes what the ingest produced: ${where}`);
      const row = toUserRow(decoded.event);
      for (const { index, name, bytes } of WIDTHS) {
        const size = encoder.encode(row[index] ?? "").length;
        assert.ok(size <= bytes, `${name}: ${size} bytes > VARCHAR(${bytes}): ${where}`);
      }
      for (const { index, name } of TIMESTAMPS) {
        const value = row[index];
        assert.ok(value === null || STORABLE_TIMESTAMP.test(value!), `${name} ${value}: ${where}`);
      }
    }
    sizes.add(users.length);
    produced += users.length;
  }
  assert.ok(sizes.has(1) && sizes.has(MAX_ITEMS), `batches of 1 and ${MAX_ITEMS} were drawn`);
  assert.equal(c.producer.messages.length, produced);
});

/** The string branch of a property schema, if any (nullable fields nest it in `anyOf`). */
function stringBranch(schema: Json, doc: Json): Json | undefined {
  const s = resolve(schema, doc);
  if (s.type === "string") return s;
  for (const option of s.anyOf ?? s.oneOf ?? []) {
    const found = stringBranch(option, doc);
    if (found) return found;
  }
  return undefined;
}

/** Characters that patterns refuse somewhere: what a mutation inserts. */
const INSERTS = [
  "\u0000",
  "\ud800",
  "\udfff",
  " ",
  "\u3000",
  "@",
  '"',
  "\n",
  "Z",
  "/",
  ":",
  "[",
  "é",
];

Deno.test("bodies just outside GET /openapi.json's bounds get a 400 problem naming the field", async () => {
  await using c = await contract();
  const rng = createRng(SEED + 1);
  const userSchema = resolve(c.user, c.doc);
  const valid = () => sampleSchema(rng, c.user, c.doc, "max") as Record<string, unknown>;
  const cases: { field: string; what: string; value: unknown }[] = [];
  for (const [field, property] of Object.entries<Json>(userSchema.properties)) {
    cases.push({ field, what: "a boolean", value: true });
    if (userSchema.required.includes(field)) {
      cases.push({ field, what: "missing", value: undefined });
      cases.push({ field, what: "null", value: null });
    }
    const s = stringBranch(property, c.doc);
    if (!s) continue;
    if (s.maxLength !== undefined) {
      try {
        const long = sampleString(rng, s.pattern, {
          minLength: s.maxLength + 1,
          maxLength: s.maxLength + 1,
          mode: "max",
          not: s.not?.pattern,
        });
        cases.push({ field, what: `maxLength + 1 (${s.maxLength + 1})`, value: long });
      } catch {
        // The pattern itself cannot be longer (e.g. local@domain): its mutations cover it.
      }
    }
    if (s.minLength > 0) {
      cases.push({ field, what: "minLength - 1", value: "x".repeat(s.minLength - 1) });
    }
    const re = new RegExp(s.pattern, "u");
    const not = s.not ? new RegExp(s.not.pattern, "u") : undefined;
    const allowed = (v: string) => re.test(v) && !not?.test(v);
    // Room for one more character, so that only the pattern can refuse the mutation.
    const base = sampleString(rng, s.pattern, {
      minLength: s.minLength,
      maxLength: s.maxLength === undefined ? undefined : s.maxLength - 1,
      mode: "random",
      not: s.not?.pattern,
    });
    let mutations = 0;
    for (const insert of [...INSERTS, ""]) {
      for (const at of [0, Math.floor(base.length / 2), base.length]) {
        const value = insert === ""
          ? " ".repeat(at % 3)
          : base.slice(0, at) + insert + base.slice(at);
        if (allowed(value) || [...value].length > (s.maxLength ?? Infinity)) continue;
        if (mutations++ < 12) {
          cases.push({ field, what: `pattern: ${JSON.stringify(value.slice(0, 60))}`, value });
        }
      }
    }
    assert.ok(mutations > 0, `no mutation of ${field} breaks its pattern`);
    if (not) {
      const lone = `${base}\ud800`;
      if ([...lone].length <= (s.maxLength ?? Infinity)) {
        cases.push({ field, what: "a lone surrogate (not: pattern)", value: lone });
      }
    }
  }
  for (const [n, k] of cases.entries()) {
    const user = valid();
    if (k.value === undefined) delete user[k.field];
    else user[k.field] = k.value;
    const body = JSON.stringify(user);
    const where = `seed ${SEED + 1}, case ${n}: ${k.field} ${k.what}`;
    const response = await c.app.handler(await signedRequest(body));
    assert.equal(response.status, 400, `${where}\n→ ${await response.clone().text()}`);
    assert.equal(response.headers.get("content-type"), "application/problem+json", where);
    const problem = await response.json();
    const paths = problem.errors[0].issues.map((i: { path: string }) => i.path);
    assert.ok(paths.every((p: string) => p === k.field), `${where}: issues at ${paths}`);
  }
  // A number past the largest double: JSON allows it, JavaScript reads it as Infinity.
  const huge = JSON.stringify(valid()).replace(/\}$/, ',"post_code":1e309}');
  const hugeProblem = await (await c.app.handler(await signedRequest(huge))).json();
  assert.equal(hugeProblem.status, 400);
  assert.equal(hugeProblem.errors[0].issues[0].path, "post_code");

  const batch = (n: number) => JSON.stringify(Array.from({ length: n }, valid));
  const empty = await c.app.handler(await signedRequest(batch(c.array.minItems - 1)));
  assert.equal(empty.status, 400);
  assert.equal((await empty.json()).title, "Bad request");
  const tooMany = await c.app.handler(await signedRequest(batch(c.array.maxItems + 1)));
  assert.equal(tooMany.status, 413);
  assert.equal(tooMany.headers.get("content-type"), "application/problem+json");
  assert.equal(c.producer.messages.length, 0, "nothing produced");
  assert.ok(cases.length > 60, `${cases.length} cases`);
});
