import assert from "node:assert/strict";
import {
  decodeEvent,
  encodeEvent,
  newEvent,
  parseUser,
  type UserInput,
  utf8Bytes,
  ValidationError,
} from "./event.ts";

const user: UserInput = {
  id: "0d2c8f2e-8a86-4b8e-9d5e-6b1a9f0c2d11",
  first_name: "Ryan",
  last_name: "Walker",
  email: "ryan.walker@example.com",
};

Deno.test("parseUser() fills omitted optional fields with null and turns a numeric post code into text", () => {
  const parsed = parseUser({ ...user, post_code: 8340 });
  assert.equal(parsed.post_code, "8340");
  assert.equal(parsed.gender, null);
  assert.equal(parsed.picture, null);
});

Deno.test("parseUser() lists every bad field with its path", () => {
  assert.throws(
    () => parseUser({ ...user, id: "nope", email: "nope", dob: "1990-01-01" }),
    (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.deepEqual(err.issues.map((i) => i.path).sort(), ["dob", "email", "id"]);
      assert.match(err.message, /^Invalid user: /);
      return true;
    },
  );
});

Deno.test("parseUser() measures text limits in UTF-8 bytes, as the warehouse does", () => {
  const name = "é".repeat(129); // 129 characters, 258 bytes > 256
  assert.equal(utf8Bytes(name), 258);
  assert.throws(() => parseUser({ ...user, first_name: name }), /first_name: Too long/);
  assert.equal(parseUser({ ...user, first_name: "é".repeat(128) }).first_name.length, 128);
});

Deno.test("parseUser() accepts non-ASCII e-mail addresses and rejects blank names", () => {
  assert.equal(parseUser({ ...user, email: "zoë@exämple.ch" }).email, "zoë@exämple.ch");
  assert.throws(() => parseUser({ ...user, last_name: "   " }), /last_name: Empty/);
});

Deno.test("decodeEvent() round-trips an encoded event", () => {
  const event = newEvent(parseUser(user), "webhook", new Date("2026-11-24T10:00:00Z"));
  const decoded = decodeEvent(encodeEvent(event));
  assert.deepEqual(decoded, { ok: true, event });
});

Deno.test("decodeEvent() tells invalid UTF-8, non-JSON, empty and schema failures apart", () => {
  const bad = (d: ReturnType<typeof decodeEvent>) => {
    assert.equal(d.ok, false);
    return d as Extract<typeof d, { ok: false }>;
  };
  assert.equal(bad(decodeEvent(new Uint8Array([0xff, 0xfe]))).stage, "utf8");
  assert.equal(bad(decodeEvent(new TextEncoder().encode("{nope"))).stage, "json");
  assert.equal(bad(decodeEvent(null)).stage, "json");
  const schema = bad(decodeEvent(new TextEncoder().encode(JSON.stringify({ schema_version: 2 }))));
  assert.equal(schema.stage, "schema");
  assert.ok(schema.issues.some((i) => i.path === "schema_version"), schema.reason);
  assert.ok(schema.issues.some((i) => i.path === "user"), schema.reason);
});

Deno.test("parseUser() refuses text the warehouse cannot store: U+0000 and lone surrogates", () => {
  assert.throws(
    () => parseUser({ ...user, first_name: "Ry\u0000an" }),
    (err: unknown) =>
      err instanceof ValidationError &&
      /first_name: Contains U\+0000, which text columns cannot store/.test(err.message),
  );
  // JSON can spell a lone surrogate ("\ud800"); it reaches the schema as one.
  const decoded = decodeEvent(
    new TextEncoder().encode(
      JSON.stringify(
        newEvent(parseUser(user), "webhook", new Date(0)),
      ).replace('"Walker"', '"Walker\\ud800"'),
    ),
  );
  assert.ok(!decoded.ok);
  assert.equal(decoded.stage, "schema");
  assert.match(decoded.reason, /user\.last_name: Contains a lone surrogate/);
  assert.equal(parseUser({ ...user, last_name: "Walker 😀" }).last_name, "Walker 😀");
});
