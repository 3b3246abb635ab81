import assert from "node:assert/strict";
import { backoffDelay } from "./backoff_delay.ts";

Deno.test("backoffDelay() doubles up to the cap, with jitter in the upper half", () => {
  const opts = { minMs: 100, maxMs: 1_000 };
  assert.equal(backoffDelay(0, { ...opts, random: () => 0 }), 50);
  assert.equal(backoffDelay(0, { ...opts, random: () => 1 }), 100);
  assert.equal(backoffDelay(3, { ...opts, random: () => 1 }), 800);
  assert.equal(backoffDelay(50, { ...opts, random: () => 1 }), 1_000);
  assert.equal(backoffDelay(50, { ...opts, random: () => 0 }), 500);
});
