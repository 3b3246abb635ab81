import assert from "node:assert/strict";
import { message } from "../../testing/fakes.ts";
import { textHeader } from "../../shared/record_headers.ts";
import { DLQ_HEADERS, isErrorHeader, toDeadLetter } from "./dead_letter.ts";

Deno.test("toDeadLetter() keeps the original record and adds Kafka Connect error headers", () => {
  const m = message(42, "{bad", "key-1");
  // Repeated names keep every value in order; an error header the record carried is dropped.
  m.headers.push(
    textHeader("tenant", "a"),
    textHeader(DLQ_HEADERS.stage, "json"),
    textHeader("tenant", "b"),
  );
  const d = toDeadLetter(m, {
    stage: "schema",
    reason: "user.email: Invalid email address",
    issues: [{ path: "user.email", message: "Invalid email address" }],
  }, new Date("2026-01-01T00:00:00.000Z"));
  assert.equal(d.value, m.value);
  assert.equal(d.key, m.key);
  assert.deepEqual(d.headers.map(([name, value]) => [name, new TextDecoder().decode(value)]), [
    ["traceparent", "00-abc-def-01"],
    ["tenant", "a"],
    ["tenant", "b"],
    ["__connect.errors.topic", "user_created"],
    ["__connect.errors.partition", "2"],
    ["__connect.errors.offset", "42"],
    ["__connect.errors.stage", "schema"],
    ["__connect.errors.exception.class.name", "ValidationError"],
    ["__connect.errors.exception.message", "user.email: Invalid email address"],
    ["user_pipeline.errors.issue_paths", "user.email"],
    ["user_pipeline.errors.issues", '[{"path":"user.email","message":"Invalid email address"}]'],
    ["user_pipeline.errors.time", "2026-01-01T00:00:00.000Z"],
  ]);
  assert.ok(isErrorHeader(DLQ_HEADERS.stage) && isErrorHeader(DLQ_HEADERS.issues));
  assert.ok(!isErrorHeader("traceparent"));
});
