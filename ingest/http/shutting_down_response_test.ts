import assert from "node:assert/strict";
import { PROBLEM_CONTENT_TYPE } from "./error_response.ts";
import { shuttingDownResponse } from "./shutting_down_response.ts";

Deno.test("shuttingDownResponse() answers 503 shutting_down with Retry-After, as a produce failure", async () => {
  const response = shuttingDownResponse(new Request("http://ingest.test/v1/users?x=1"));
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("content-type"), PROBLEM_CONTENT_TYPE);
  assert.equal(response.headers.get("retry-after"), "5");
  const body = await response.json();
  assert.equal(body.reason, "shutting_down");
  assert.equal(body.title, "Service unavailable");
});
