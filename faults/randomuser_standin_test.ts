import assert from "node:assert/strict";
import { fromRandomUser, usersFromResponse } from "../ingest/pull/random_user.ts";
import { userVersion } from "../shared/event.ts";
import { waitUntil } from "../testing/wait.ts";
import { RANDOMUSER_NATIONALITIES, requestedNationalities } from "./randomuser_nationalities.ts";
import { startRandomUserStandin } from "./randomuser_standin.ts";

/** The codes randomuser.me 1.4 serves (its `nat` parameter's documented values). */
const SERVED = [
  "AU",
  "BR",
  "CA",
  "CH",
  "DE",
  "DK",
  "ES",
  "FI",
  "FR",
  "GB",
  "IE",
  "IN",
  "IR",
  "MX",
  "NL",
  "NO",
  "NZ",
  "RS",
  "TR",
  "UA",
  "US",
];

// deno-lint-ignore no-explicit-any
type Json = any;

async function getJson(url: string): Promise<Json> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return await response.json();
}

Deno.test("the stand-in serves every nationality randomuser.me serves, each user with nat, cell and country", async () => {
  const standin = startRandomUserStandin({ results: SERVED.length, cycle: ["good"] });
  try {
    const body = await getJson(`${standin.url}?results=21`);
    const valid = body.results.slice(0, -1); // the last result is broken on purpose
    assert.deepEqual(valid.map((r: Json) => r.nat).sort(), SERVED);
    for (const result of valid) {
      const nat = RANDOMUSER_NATIONALITIES[result.nat]!;
      assert.equal(result.cell, nat.cell, result.nat);
      assert.equal(result.location.country, nat.country, result.nat);
      const user = fromRandomUser(result);
      assert.equal(user.nat, result.nat);
      assert.equal(user.cell, nat.cell);
      assert.equal(userVersion(user), 2, `${result.nat}: the pull makes a version-2 user`);
      assert.ok(user.address?.endsWith(`, ${nat.country}`), user.address ?? "no address");
    }
    const { users, rejected } = usersFromResponse(body);
    assert.equal(users.length, SERVED.length);
    assert.deepEqual(rejected.map((r) => r.index), [SERVED.length]);
    assert.equal(standin.takeServed().length, SERVED.length);
  } finally {
    await standin.close();
  }
});

Deno.test("the stand-in honours ?nat= as randomuser.me does: a list in any case, ignored when a code is unknown", async () => {
  const standin = startRandomUserStandin({ results: 6, cycle: ["good"] });
  try {
    const nats = async (query: string) =>
      (await getJson(`${standin.url}${query}`)).results.slice(0, -1).map((r: Json) => r.nat);
    assert.deepEqual(await nats("?nat=gb,us"), ["GB", "US", "GB", "US", "GB", "US"]);
    assert.deepEqual(await nats("?nat=CH&results=6"), Array(6).fill("CH"));
    // What the pull sends: RANDOMUSER_URL's query with `results` set (the comma escaped).
    assert.deepEqual(new Set(await nats("?nat=fr%2Cde&results=6")), new Set(["FR", "DE"]));
  } finally {
    await standin.close();
  }
  const url = (query: string) => new URL(`http://127.0.0.1/api/${query}`);
  assert.deepEqual(requestedNationalities(url("?nat=gb,,Us,")), ["GB", "US"]);
  assert.deepEqual(requestedNationalities(url("?nat=gb,xx")), SERVED, "an unknown code: all");
  assert.deepEqual(requestedNationalities(url("?nat=")), SERVED);
  assert.deepEqual(requestedNationalities(url("")), SERVED);
});

Deno.test("the stand-in's fault cycle: 500, 429, an answer only once the client gives up, users; then garbage instead of users", async () => {
  const standin = startRandomUserStandin({ results: 2 });
  try {
    const statusOf = async () => {
      const response = await fetch(standin.url);
      await response.body?.cancel();
      return response.status;
    };
    for (const round of ["good", "garbage"]) {
      assert.equal(await statusOf(), 500, round);
      assert.equal(await statusOf(), 429, round);
      const gaveUp = new AbortController();
      const hung = fetch(standin.url, { signal: gaveUp.signal });
      const hangs = standin.served.hang ?? 0;
      await waitUntil(() => standin.served.hang === hangs + 1, 5_000, "the request to hang");
      gaveUp.abort();
      await assert.rejects(hung, (err: Error) => err.name === "AbortError", round);
      const response = await fetch(standin.url);
      const text = await response.text();
      if (round === "good") assert.equal(JSON.parse(text).results.length, 3);
      else assert.throws(() => JSON.parse(text), SyntaxError);
    }
    assert.deepEqual(standin.served, { "500": 2, "429": 2, hang: 2, good: 1, garbage: 1 });
  } finally {
    await standin.close();
  }
});
