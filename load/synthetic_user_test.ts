import assert from "node:assert/strict";
import { encodeEvent, newEvent, parseUser, userVersion } from "../shared/event.ts";
import { createRng } from "../testing/rng.ts";
import { syntheticUser } from "./synthetic_user.ts";

Deno.test("syntheticUser() makes users that pass the shared schema, with distinct ids", () => {
  const random = createRng(42).next;
  const ids = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const user = parseUser(syntheticUser(random));
    ids.add(user.id);
    assert.equal(typeof user.post_code, "string");
  }
  assert.equal(ids.size, 500);
});

Deno.test("a synthetic event is several hundred bytes on the topic", () => {
  const user = parseUser(syntheticUser(createRng(1).next));
  const size = encodeEvent(newEvent(user, "webhook", new Date())).length;
  assert.ok(size > 400 && size < 1200, `event is ${size} bytes`);
});

Deno.test("syntheticUser() makes version-1 users by default and version-2 users (nat, cell) when asked", () => {
  const COUNTRY_NAT: Record<string, string> = {
    France: "FR",
    Turkey: "TR",
    "United Kingdom": "GB",
    Canada: "CA",
    Germany: "DE",
    Brazil: "BR",
  };
  const v1 = createRng(7).next;
  const v2 = createRng(7).next;
  const nats = new Set<string | null | undefined>();
  let nullCells = 0;
  for (let i = 0; i < 500; i++) {
    const old = parseUser(syntheticUser(v1));
    assert.equal(userVersion(old), 1);
    assert.ok(!("nat" in old) && !("cell" in old), "version 1 does not know them");
    const user = parseUser(syntheticUser(v2, 2));
    assert.equal(userVersion(user), 2, "null is not absent");
    const country = user.address!.split(", ").at(-1)!;
    if (user.nat !== null) assert.equal(user.nat, COUNTRY_NAT[country], user.address!);
    nats.add(user.nat);
    if (user.cell === null) nullCells++;
  }
  assert.deepEqual(
    [...nats].sort(),
    [...Object.values(COUNTRY_NAT).sort(), null],
    "every nationality, and a few nulls",
  );
  assert.ok(nullCells > 0 && nullCells < 100, `${nullCells} null cells`);
});

Deno.test("syntheticUser() draws version 2's fields last: one seed's first user is the same in both versions", () => {
  const { id: _a, ...v1 } = syntheticUser(createRng(3).next, 1);
  const { id: _b, nat, cell, ...v2 } = syntheticUser(createRng(3).next, 2);
  assert.deepEqual(v2, v1);
  assert.ok(nat !== undefined && cell !== undefined);
});
