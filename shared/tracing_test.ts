import assert from "node:assert/strict";
import { FakeTracing } from "../testing/fakes.ts";
import { formatTraceparent, inSpan, noTracing, parseTraceparent } from "./tracing.ts";

Deno.test("parseTraceparent() reads a version-00 header and formatTraceparent() writes it back", () => {
  const header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const context = parseTraceparent(header);
  assert.deepEqual(context, {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: 1,
  });
  assert.equal(formatTraceparent(context!), header);
  assert.equal(formatTraceparent({ ...context!, traceFlags: 0 }).slice(-3), "-00");
});

Deno.test("parseTraceparent() refuses what is not a valid version-00 header", () => {
  for (
    const bad of [
      "",
      "00-abc-def-01",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ]
  ) {
    assert.equal(parseTraceparent(bad), undefined, bad);
  }
});

Deno.test("noTracing makes no span and runs what it is given as it is", async () => {
  assert.equal(noTracing.enabled, false);
  assert.equal(noTracing.activeContext(), undefined);
  const span = noTracing.startSpan("x", { links: [] });
  assert.equal(span, noTracing.startSpan("y"), "one shared no-op span");
  assert.equal(noTracing.withSpan(span, () => 42), 42);
  assert.equal(await inSpan(noTracing, "x", {}, () => Promise.resolve(7)), 7);
});

Deno.test("inSpan() ends its span, a child of the active one, and marks it failed on a rejection", async () => {
  const tracing = new FakeTracing();
  const parent = tracing.startSpan("parent");
  await tracing.withSpan(parent, () => inSpan(tracing, "ok", {}, () => Promise.resolve()));
  const error = new Error("boom");
  await assert.rejects(
    tracing.withSpan(parent, () => inSpan(tracing, "bad", {}, () => Promise.reject(error))),
    error,
  );
  const [ok, bad] = [tracing.named("ok")[0]!, tracing.named("bad")[0]!];
  assert.equal(ok.parent, parent);
  assert.ok(ok.ended && !ok.failed);
  assert.equal(bad.parent, parent);
  assert.ok(bad.ended && bad.failed);
  assert.deepEqual(bad.errors, [error]);
});
