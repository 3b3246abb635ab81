import assert from "node:assert/strict";
import { kGetBootstrapConnection } from "@platformatic/kafka";
import { rotatingMetadata } from "./metadata_rotation.ts";

/** A stand-in for the client's method: records the `attempt` each metadata read asked with. */
function fakeClient() {
  const attempts: number[] = [];
  const client = {
    [kGetBootstrapConnection](callback: (e: Error | null) => void, attempt = 0) {
      attempts.push(attempt);
      callback(null);
    },
  };
  return { client, attempts };
}

Deno.test("rotatingMetadata() starts reads one broker further on after each passOver, with a new key", () => {
  const { client, attempts } = fakeClient();
  const rotation = rotatingMetadata(client, 3);
  const read = (attempt?: number) =>
    (client[kGetBootstrapConnection] as (cb: () => void, a?: number) => void)(() => {}, attempt);
  read();
  read(1); // the client's own retry of a failed request
  assert.deepEqual(attempts, [0, 1], "no rotation before a read was passed over");
  assert.equal(rotation.retries(), 3);
  rotation.passOver();
  read();
  read(2);
  assert.deepEqual(attempts.slice(2), [1, 3], "one broker further on, retries included");
  assert.equal(rotation.retries(), 4, "a key of its own: it does not join the read that hangs");
  for (let i = 0; i < 3; i++) rotation.passOver();
  assert.equal(rotation.skipped(), 4);
  assert.equal(rotation.retries(), 3, "keys cycle");
});

Deno.test("rotatingMetadata() fails loudly when the client no longer has the method it wraps", () => {
  assert.throws(() => rotatingMetadata({}, 3), /kGetBootstrapConnection/);
});
