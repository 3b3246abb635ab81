import assert from "node:assert/strict";
import { ApiError } from "./app.ts";
import { findQuery, traceOf } from "./find_routes.ts";

const q = (search: string) => findQuery(new URL(`http://c/api/find?${search}`));

Deno.test("findQuery() takes exactly one of user_id, event_id, trace_id, each in its shape", () => {
  assert.deepEqual(q("user_id=6A1F2C3D-0000-4000-8000-000000000001"), {
    by: "user",
    id: "6a1f2c3d-0000-4000-8000-000000000001",
  });
  assert.deepEqual(q("trace_id=4bf92f3577b34da6a3ce929d0e0e4736"), {
    by: "trace",
    id: "4bf92f3577b34da6a3ce929d0e0e4736",
  });
  for (
    const bad of ["", "user_id=x", "event_id=1&trace_id=2", "trace_id=<script>", "user_id=' or 1=1"]
  ) {
    assert.throws(() => q(bad), (e: unknown) => e instanceof ApiError && e.status === 400, bad);
  }
});

Deno.test("traceOf() links an event's trace through CONSOLE_TRACE_URL, and only a valid one", () => {
  const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  assert.deepEqual(traceOf(tp, "http://jaeger:16686/trace/{trace_id}"), {
    id: "4bf92f3577b34da6a3ce929d0e0e4736",
    url: "http://jaeger:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736",
  });
  assert.deepEqual(traceOf(tp, undefined), { id: "4bf92f3577b34da6a3ce929d0e0e4736" });
  for (
    const bad of [
      undefined,
      "",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"><script>',
      "javascript:alert(1)",
    ]
  ) {
    assert.equal(traceOf(bad, "http://jaeger/{trace_id}"), undefined, String(bad));
  }
});
