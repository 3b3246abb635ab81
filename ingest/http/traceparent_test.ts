import assert from "node:assert/strict";
import { childTraceparent, requestTraceparent } from "./traceparent.ts";
import { noTracing } from "../../shared/tracing.ts";
import { FakeTracing } from "../../testing/fakes.ts";

const FORMAT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

Deno.test("childTraceparent() keeps the caller's trace id and flags with a new span id", () => {
  const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const child = childTraceparent(incoming);
  assert.match(child, FORMAT);
  assert.equal(child.slice(0, 35), incoming.slice(0, 35));
  assert.notEqual(child.slice(36, 52), "00f067aa0ba902b7");
  assert.equal(child.slice(53), "01");
});

Deno.test("childTraceparent() starts a new trace for a missing or invalid header", () => {
  for (const bad of [null, "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"]) {
    const child = childTraceparent(bad);
    assert.match(child, FORMAT);
    assert.notEqual(child.slice(3, 35), "0".repeat(32));
  }
  assert.notEqual(childTraceparent(null), childTraceparent(null));
});

Deno.test("requestTraceparent() is the active span's context with tracing on, childTraceparent() otherwise", () => {
  const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const off = requestTraceparent(noTracing, incoming);
  assert.match(off, FORMAT);
  assert.equal(off.slice(0, 35), incoming.slice(0, 35));
  const tracing = new FakeTracing();
  const span = tracing.startSpan("GET");
  const on = tracing.withSpan(span, () => requestTraceparent(tracing, incoming));
  const { traceId, spanId } = span.context();
  assert.equal(on, `00-${traceId}-${spanId}-01`);
  assert.match(requestTraceparent(tracing, null), FORMAT, "no active span: made up, as before");
});
