import assert from "node:assert/strict";
import { createRng } from "./rng.ts";

Deno.test("createRng() repeats its sequence for a seed", () => {
  const [a, b] = [createRng(7), createRng(7)];
  for (let i = 0; i < 10; i++) assert.equal(a.next(), b.next());
  const next = createRng(7).next;
  assert.equal(next(), createRng(7).next(), "next works when passed on alone");
});

Deno.test("createRng() keeps its helpers within their ranges", () => {
  const rng = createRng(1);
  for (let i = 0; i < 1_000; i++) {
    const n = rng.int(5);
    assert.ok(Number.isInteger(n) && n >= 0 && n < 5, `int(5) gave ${n}`);
    assert.ok(["a", "b"].includes(rng.pick(["a", "b"])));
  }
  assert.equal(rng.bytes(16).length, 16);
});
