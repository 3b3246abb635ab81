import assert from "node:assert/strict";
import { encodeEvent } from "../../shared/event.ts";
import { testEvent, testUser } from "../../testing/users.ts";
import { inlineDecoder } from "./record_decoder.ts";
import { createThreadDecoder, INLINE_BELOW } from "./thread_decoder.ts";

const enc = new TextEncoder();

Deno.test("the thread decoder gives exactly what the inline decoder gives, in order", async () => {
  const good = encodeEvent(testEvent(testUser(1), new Date("2026-01-01T00:00:00.000Z")));
  // A value that is a view into a larger buffer, as the Kafka client hands them out.
  const big = new Uint8Array(good.length + 10);
  big.set(good, 5);
  const kinds = [
    good,
    null,
    new Uint8Array([0xff, 0xfe]),
    enc.encode("{oops"),
    enc.encode(JSON.stringify({ schema_version: 1 })),
    big.subarray(5, 5 + good.length),
    new Uint8Array(0),
  ];
  // Enough values to go to a thread (fewer decode on the calling thread).
  const values = Array.from({ length: Math.ceil(INLINE_BELOW / kinds.length) }, () => kinds).flat();
  assert.ok(values.length >= INLINE_BELOW);
  const decoder = createThreadDecoder(2);
  try {
    const [a, b] = await Promise.all([decoder.decode(values), decoder.decode(values.toReversed())]);
    const expected = await inlineDecoder.decode(values);
    assert.deepEqual(a, expected);
    assert.deepEqual(b, expected.toReversed());
    assert.equal(a[0]!.ok, true);
    assert.deepEqual(a.slice(0, kinds.length).map((d) => d.ok ? "row" : d.stage), [
      "row",
      "json",
      "utf8",
      "json",
      "schema",
      "row",
      "json",
    ]);
  } finally {
    decoder.close();
  }
});

Deno.test("the thread decoder decodes a few values on the calling thread, even with its threads gone", async () => {
  const decoder = createThreadDecoder(1);
  decoder.close(); // a call that reached a thread would now fail with "decoder closed"
  const values = [enc.encode("{oops"), null];
  assert.deepEqual(await decoder.decode(values), await inlineDecoder.decode(values));
});
