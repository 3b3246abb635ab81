import assert from "node:assert/strict";
import { fromRandomUser, usersFromResponse } from "./random_user.ts";
import { userVersion, ValidationError } from "../../shared/event.ts";

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("../../shared/testdata/randomuser_1.4.json", import.meta.url)),
);

Deno.test("fromRandomUser() maps a 1.4 result with non-ASCII names, apostrophes and a numeric post code", () => {
  const user = fromRandomUser(fixture.results[0]);
  assert.deepEqual(user, {
    id: "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    first_name: "Zoé",
    last_name: "D'Angelo",
    gender: "female",
    address: "4795 Rue de L'Abbé-Grégoire, Genève, Fribourg, Switzerland",
    post_code: "8340",
    email: "zoe.dangelo@example.com",
    username: "silverbird123",
    dob: "1993-07-20T09:44:18.674Z",
    registered_date: "2008-05-18T05:05:49.536Z",
    phone: "078 715 93 41",
    picture: "https://randomuser.me/api/portraits/med/women/44.jpg",
    nat: "CH",
    cell: "075 418 52 46",
  });
});

Deno.test("fromRandomUser() maps every valid result of the testdata with its nat and cell, as a version-2 user", () => {
  const valid = fixture.results.filter((_: unknown, i: number) => i !== 2); // 2 is broken on purpose
  assert.equal(valid.length, 2);
  for (const result of valid) {
    const user = fromRandomUser(result);
    assert.equal(user.nat, result.nat, result.login.uuid);
    assert.equal(user.cell, result.cell ?? null, `${result.login.uuid}: a missing cell is null`);
    assert.equal(userVersion(user), 2, result.login.uuid);
  }
  assert.equal(fromRandomUser(fixture.results[1]).cell, null, "result 1 has no cell");
});

Deno.test("fromRandomUser() maps a result without nat and cell, both null (still version 2)", () => {
  const { nat: _nat, cell: _cell, ...bare } = fixture.results[0];
  const user = fromRandomUser(bare);
  assert.equal(user.nat, null);
  assert.equal(user.cell, null);
  assert.equal(user.email, "zoe.dangelo@example.com");
  assert.equal(userVersion(user), 2, "the pull knows both fields: null, not absent");
  const blank = fromRandomUser({ ...fixture.results[0], nat: null, cell: "  " });
  assert.equal(blank.nat, null);
  assert.equal(blank.cell, null, "a blank cell is null, as a blank phone is");
});

Deno.test("fromRandomUser() keeps a user whose nat breaks the two-capitals rule, with nat null", () => {
  for (const nat of ["ch", "CHE", "C", "", " ", 41, {}, "C\u0000"]) {
    const user = fromRandomUser({ ...fixture.results[0], nat });
    assert.equal(user.nat, null, JSON.stringify(nat));
    assert.equal(user.cell, "075 418 52 46", JSON.stringify(nat));
  }
  assert.equal(fromRandomUser({ ...fixture.results[0], nat: " GB " }).nat, "GB", "trimmed");
});

Deno.test("fromRandomUser() refuses a cell the warehouse cannot store, as it refuses such a phone", () => {
  assert.throws(() => fromRandomUser({ ...fixture.results[0], cell: "0".repeat(65) }), (err) => {
    assert.ok(err instanceof ValidationError);
    assert.deepEqual(err.issues.map((i) => i.path), ["cell"]);
    assert.match(err.message, /cell: Too long: at most 64 characters/);
    return true;
  });
});

Deno.test("fromRandomUser() keeps alphanumeric post codes and skips empty address parts", () => {
  const user = fromRandomUser(fixture.results[1]);
  assert.equal(user.post_code, "B1E 4HB");
  assert.equal(user.address, "12 Manor Road, Carlisle, United Kingdom");
});

Deno.test("fromRandomUser() names every bad field of a broken result", () => {
  assert.throws(() => fromRandomUser(fixture.results[2]), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    const paths = err.issues.map((i) => i.path).sort();
    assert.deepEqual(
      paths,
      ["dob", "email", "first_name", "id"],
      "nat and cell are not among them",
    );
    return true;
  });
});

Deno.test("fromRandomUser() rejects a result without login.uuid", () => {
  const { login: _login, ...noLogin } = fixture.results[1];
  assert.throws(() => fromRandomUser(noLogin), /Invalid randomuser result: login/);
});

Deno.test("usersFromResponse() returns the good users and the index of each rejected one", () => {
  const { users, rejected } = usersFromResponse(fixture);
  assert.equal(users.length, 2);
  assert.deepEqual(rejected.map((r) => r.index), [2]);
});

Deno.test("usersFromResponse() refuses a body that is not a randomuser response", () => {
  assert.throws(() => usersFromResponse({ error: "Uh oh" }), ValidationError);
  assert.throws(() => usersFromResponse("<html>"), /Not a randomuser response/);
});
