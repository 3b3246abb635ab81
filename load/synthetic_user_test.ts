import assert from "node:assert/strict";
import { encodeEvent, newEvent, parseUser } from "../shared/event.ts";
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
