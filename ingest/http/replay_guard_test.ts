import assert from "node:assert/strict";
import { createReplayGuard } from "./replay_guard.ts";

Deno.test("createReplayGuard() refuses an id within the window and accepts it after", () => {
  let now = 0;
  const guard = createReplayGuard({ windowMs: 1000, maxEntries: 10, now: () => now });
  assert.equal(guard.claim("a"), true);
  assert.equal(guard.claim("a"), false, "replay within the window");
  now = 1001;
  assert.equal(guard.claim("a"), true, "the window has passed");
});

Deno.test("createReplayGuard() forgets a released id so the sender can retry", () => {
  const guard = createReplayGuard({ windowMs: 1000, maxEntries: 10, now: () => 0 });
  assert.equal(guard.claim("a"), true);
  guard.release("a");
  assert.equal(guard.claim("a"), true);
});

Deno.test("createReplayGuard() stays within maxEntries by evicting the oldest ids", () => {
  let now = 0;
  const guard = createReplayGuard({ windowMs: 1_000_000, maxEntries: 3, now: () => now });
  for (const id of ["a", "b", "c", "d"]) {
    now++;
    assert.equal(guard.claim(id), true);
  }
  assert.equal(guard.size(), 3);
  assert.equal(guard.claim("d"), false, "the newest is still remembered");
  assert.equal(guard.claim("a"), true, "the oldest was evicted");
});
