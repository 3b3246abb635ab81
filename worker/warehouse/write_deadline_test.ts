import assert from "node:assert/strict";
import { withWriteDeadline, WRITE_TIMEOUT } from "./write_deadline.ts";
import { WriteError } from "./write_error.ts";
import { decide } from "../failure.ts";

Deno.test("withWriteDeadline() abandons a write that never ends and fails it as retriable", async () => {
  let abandoned = 0;
  let failHung!: (err: Error) => void;
  const hung = new Promise<never>((_, reject) => failHung = reject);
  const err = await withWriteDeadline(1, () => hung, () => {
    abandoned++;
    // What ending the pool does to the query in flight: after the deadline, and ignored.
    queueMicrotask(() => failHung(new Error("write CONNECTION_DESTROYED")));
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof WriteError, String(err));
  assert.equal(err.action, "retry");
  assert.equal(err.code, WRITE_TIMEOUT);
  assert.match(err.message, /did not finish within 1 ms/);
  assert.deepEqual(decide(err), { action: "retry", kind: "warehouse" }, "retried like an outage");
  assert.equal(abandoned, 1, "the connection was dropped once");
});

Deno.test("withWriteDeadline() passes a write's result or error through, abandoning nothing", async () => {
  const abandon = () => assert.fail("a write that ends in time is not abandoned");
  assert.deepEqual(await withWriteDeadline(60_000, () => Promise.resolve({ stale: 2 }), abandon), {
    stale: 2,
  });
  const refused = new WriteError("violates check constraint", "isolate", "23514");
  await assert.rejects(withWriteDeadline(60_000, () => Promise.reject(refused), abandon), refused);
  // Resource sanitizers: the 60 s timers must be gone, or this test fails as leaking them.
});

Deno.test("withWriteDeadline() still fails retriably when dropping the connection throws", async () => {
  const err = await withWriteDeadline(1, () => new Promise<never>(() => {}), () => {
    throw new Error("already closed");
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof WriteError && err.action === "retry", String(err));
  assert.equal((err.cause as Error).message, "already closed");
});
