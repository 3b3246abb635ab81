import assert from "node:assert/strict";
import { HttpError } from "./http_error.ts";
import { InvalidItemsError, parseUsers } from "./parse_users.ts";
import { sampleUser } from "../../testing/users.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function throwsHttp(fn: () => unknown, status: number, message: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HttpError, `expected HttpError, got ${err}`);
    assert.equal(err.status, status);
    assert.match(err.message, message);
    return true;
  });
}

Deno.test("parseUsers() reads one object, an array and NDJSON", () => {
  const [a, b] = [sampleUser(1), sampleUser(2)];
  assert.equal(parseUsers(bytes(JSON.stringify(a)), "application/json", 10).length, 1);
  assert.equal(
    parseUsers(bytes(JSON.stringify([a, b])), "application/json; charset=utf-8", 10).length,
    2,
  );
  const ndjson = `${JSON.stringify(a)}\n\n${JSON.stringify(b)}\n`;
  const users = parseUsers(bytes(ndjson), "application/x-ndjson", 10);
  assert.deepEqual(
    users.map((u) => u.post_code),
    ["42000", "42000"],
    "numeric post codes become text",
  );
});

Deno.test("parseUsers() refuses other content types with 415", () => {
  throwsHttp(() => parseUsers(bytes("{}"), "text/plain", 10), 415, /got "text\/plain"/);
  throwsHttp(() => parseUsers(bytes("{}"), null, 10), 415, /got "\(none\)"/);
});

Deno.test("parseUsers() refuses a charset other than UTF-8 with 415", () => {
  const body = bytes(JSON.stringify(sampleUser(3)));
  for (const type of ["application/json; charset=iso-8859-1", "application/json;charset=utf-16"]) {
    throwsHttp(() => parseUsers(body, type, 10), 415, /Content-Type charset must be utf-8/);
  }
  for (const type of ['application/json; charset="UTF-8"', "application/x-ndjson;charset=utf8"]) {
    assert.equal(parseUsers(body, type, 10).length, 1, type);
  }
});

Deno.test("parseUsers() refuses bad JSON, a bare value and an empty batch with 400", () => {
  throwsHttp(() => parseUsers(bytes("{nope"), "application/json", 10), 400, /Body is not JSON/);
  throwsHttp(
    () => parseUsers(bytes('"x"'), "application/json", 10),
    400,
    /user object or an array/,
  );
  throwsHttp(() => parseUsers(bytes("[]"), "application/json", 10), 400, /Empty batch/);
  throwsHttp(
    () => parseUsers(bytes(`${JSON.stringify(sampleUser())}\n{bad`), "application/x-ndjson", 10),
    400,
    /Line 2 is not JSON/,
  );
  throwsHttp(
    () => parseUsers(new Uint8Array([0x7b, 0xff, 0x7d]), "application/json", 10),
    400,
    /UTF-8/,
  );
});

Deno.test("parseUsers() refuses more than maxItems with 413", () => {
  const body = JSON.stringify([sampleUser(), sampleUser(), sampleUser()]);
  throwsHttp(
    () => parseUsers(bytes(body), "application/json", 2),
    413,
    /Too many items: 3, the limit is 2/,
  );
});

Deno.test("parseUsers() lists every invalid item with its index and reasons", () => {
  const body = JSON.stringify([
    sampleUser(1),
    sampleUser(2, { email: "not-an-email" }),
    sampleUser(3),
    { ...sampleUser(4), id: 42, first_name: "" },
  ]);
  assert.throws(() => parseUsers(bytes(body), "application/json", 10), (err: unknown) => {
    assert.ok(err instanceof InvalidItemsError);
    assert.deepEqual(err.items.map((i) => i.index), [1, 3]);
    assert.deepEqual(err.items[0]!.issues.map((i) => i.path), ["email"]);
    assert.deepEqual(err.items[1]!.issues.map((i) => i.path).sort(), ["first_name", "id"]);
    assert.match(err.message, /^2 of 4 items are invalid; item 1: email: /);
    return true;
  });
});
