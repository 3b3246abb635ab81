import assert from "node:assert/strict";
import {
  decodeEvent,
  encodeEvent,
  encodeNewEvent,
  FIELD_SINCE,
  newEvent,
  parseUser,
  SCHEMA_VERSION,
  type UserInput,
  userVersion,
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

Deno.test("parseUser() counts text limits in characters (code points), as JSON Schema's maxLength does", () => {
  // 256 astral characters: 512 UTF-16 code units and 1024 UTF-8 bytes, but 256 characters.
  const emoji = "😀".repeat(256);
  assert.equal(parseUser({ ...user, first_name: emoji }).first_name, emoji);
  assert.equal(parseUser({ ...user, first_name: "é".repeat(256) }).first_name.length, 256);
  assert.throws(
    () => parseUser({ ...user, first_name: "😀".repeat(257) }),
    /first_name: Too long: at most 256 characters/,
  );
  const local = "ö".repeat(64);
  assert.equal(parseUser({ ...user, email: `${local}@example.com` }).email, `${local}@example.com`);
  assert.throws(() => parseUser({ ...user, email: `${local}ö@example.com` }), /email: Invalid/);
  const picture = `https://example.com/${"😀".repeat(1024 - 20)}`;
  assert.equal(parseUser({ ...user, picture }).picture, picture);
  assert.throws(() => parseUser({ ...user, picture: picture + "x" }), /picture: Too long/);
});

Deno.test("parseUser() refuses timestamps whose instant in UTC is outside years 0001..9999", () => {
  for (
    const dob of ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:30:00+01:00"]
  ) {
    assert.throws(
      () => parseUser({ ...user, dob }),
      (err: unknown) =>
        err instanceof ValidationError && err.issues.length === 1 &&
        err.issues[0]!.path === "dob" && /years 0001\.\.9999/.test(err.issues[0]!.message),
      dob,
    );
  }
  for (
    const dob of [
      "0001-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999999Z",
      "9999-12-31T23:59:59+23:59",
    ]
  ) {
    assert.equal(parseUser({ ...user, dob }).dob, dob);
  }
  assert.throws(
    () => parseUser({ ...user, registered_date: "10000-01-01T00:00:00Z" }),
    /registered_date/,
  );
});

Deno.test("parseUser() refuses empty and blank names, blank meaning what trim() removes", () => {
  for (const blank of ["", " ", "\t\n", "\u00a0\u3000\ufeff\u2028"]) {
    assert.throws(() => parseUser({ ...user, first_name: blank }), /first_name: Empty/);
  }
  // Not whitespace to trim() (nor to the pattern): a zero-width space and U+001F are names.
  assert.equal(parseUser({ ...user, first_name: "\u200b" }).first_name, "\u200b");
  assert.equal(parseUser({ ...user, first_name: " \u001f " }).first_name, " \u001f ");
});

Deno.test("parseUser() takes http(s) picture URLs only, without credentials", () => {
  for (
    const picture of [
      "https://randomuser.me/api/portraits/men/1.jpg",
      "HTTP://[::1]:8080/a?b#c",
      "https://exämple.ch",
    ]
  ) {
    assert.equal(parseUser({ ...user, picture }).picture, picture);
  }
  for (
    const picture of [
      "ftp://example.com/a.jpg",
      "https://user:pw@example.com/",
      "https://a b/",
      "https://",
      "https://x/\u0000",
    ]
  ) {
    assert.throws(() => parseUser({ ...user, picture }), /picture: Invalid URL/, picture);
  }
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
  assert.ok(schema.issues.some((i) => i.path === "user"), schema.reason);
});

Deno.test("decodeEvent() dead-letters a value that is not a version and holds a newer one", () => {
  const event = newEvent(parseUser(user), "webhook", new Date("2026-11-24T10:00:00Z"));
  const encoded = (v: unknown) =>
    new TextEncoder().encode(JSON.stringify({ ...event, schema_version: v }));
  for (const v of [0, -1, 1.5, "2", null, undefined, 2 ** 60]) {
    const d = decodeEvent(encoded(v));
    assert.ok(!d.ok && d.stage === "schema", `${v}: ${JSON.stringify(d)}`);
    assert.equal(d.issues[0]?.path, "schema_version");
    assert.match(d.reason, /^schema_version: Not a schema version: expected a positive integer/);
  }
  const newer = decodeEvent(encoded(SCHEMA_VERSION + 1));
  assert.deepEqual(newer, {
    ok: false,
    stage: "newer",
    version: SCHEMA_VERSION + 1,
    reason: `schema_version ${SCHEMA_VERSION + 1} is newer than this worker (it knows 1 to ` +
      `${SCHEMA_VERSION}); upgrade the workers`,
  });
  // Even an otherwise empty envelope: a newer version may have changed anything else.
  assert.equal(decodeEvent(new TextEncoder().encode('{"schema_version":99}')).ok, false);
  assert.equal(
    (decodeEvent(new TextEncoder().encode('{"schema_version":99}')) as { stage: string }).stage,
    "newer",
  );
});

Deno.test("each event says the oldest version that holds its user's fields; each is read by its own schema", () => {
  const v1 = parseUser(user);
  assert.equal(userVersion(v1), 1, "no nat, no cell: version 1");
  assert.equal(userVersion(parseUser({ ...user, nat: "GB" })), 2);
  assert.equal(userVersion(parseUser({ ...user, cell: null })), 2, "null is not absent");
  const at = new Date("2026-11-24T10:00:00Z");
  const e1 = newEvent(v1, "webhook", at);
  assert.equal(e1.schema_version, 1);
  assert.ok(!("nat" in e1.user), "absent stays absent");
  const e2 = newEvent(parseUser({ ...user, nat: "CH", cell: "075 418 52 46" }), "webhook", at);
  assert.equal(e2.schema_version, 2);
  assert.deepEqual(decodeEvent(encodeEvent(e2)), { ok: true, event: e2 });
  // A version-1 event that carries a field of version 2 is read as version 1: the field is
  // not part of what it says.
  const d = decodeEvent(encodeEvent({ ...e1, user: { ...e1.user, nat: "GB" } }));
  assert.ok(d.ok);
  assert.equal(d.event.schema_version, 1);
  assert.ok(!("nat" in d.event.user));
  assert.equal(FIELD_SINCE.nat, 2);
  assert.equal(FIELD_SINCE.email, 1);
  assert.throws(() => parseUser({ ...user, nat: "gb" }), /nat: Invalid nationality/);
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

Deno.test("encodeNewEvent() writes the same bytes as encodeEvent(newEvent())", () => {
  const user = parseUser({
    id: "6A1F2C3D-4E5F-4A6B-8C7D-000000000001",
    first_name: 'Zoë "Q" \\ O\'Brien',
    last_name: "Nguyễn\u2028",
    email: "zoe@example.com",
    post_code: 42000,
  });
  const at = new Date("2026-11-24T10:00:00.123Z");
  const id = crypto.randomUUID();
  assert.deepEqual(
    encodeNewEvent(user, "webhook", at.toISOString(), id),
    encodeEvent(newEvent(user, "webhook", at, id)),
  );
});
