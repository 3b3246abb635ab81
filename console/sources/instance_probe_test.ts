import assert from "node:assert/strict";
import { createInstanceProbe, displayUrl, readyReason } from "./instance_probe.ts";

Deno.test("the instance probe reads /metrics and the /readyz reason, and hides credentials in the URL", async () => {
  const seen: string[] = [];
  const probe = createInstanceProbe({
    timeoutMs: 1_000,
    fetch: (input) => {
      const url = String(input);
      seen.push(url);
      if (url.endsWith("/metrics")) {
        return Promise.resolve(new Response("worker_rows_upserted_total 7\n"));
      }
      return Promise.resolve(Response.json(
        { ok: false, problem: "the warehouse does not answer" },
        { status: 503 },
      ));
    },
  });
  const state = await probe("worker", "http://ops:secret@127.0.0.1:9090");
  assert.deepEqual(seen.toSorted(), [
    "http://ops:secret@127.0.0.1:9090/metrics",
    "http://ops:secret@127.0.0.1:9090/readyz",
  ]);
  assert.equal(state.url, "http://127.0.0.1:9090");
  assert.equal(state.up, true);
  assert.equal(state.ready, false);
  assert.equal(state.reason, "the warehouse does not answer");
  assert.equal(state.samples[0]!.value, 7);
  assert.equal(displayUrl("http://u:p@h:1/x/"), "http://h:1/x");
});

Deno.test("the instance probe reports an instance that does not answer as down and why", async () => {
  const probe = createInstanceProbe({
    timeoutMs: 1_000,
    fetch: () => Promise.reject(new TypeError("connection refused")),
  });
  const state = await probe("ingest", "http://127.0.0.1:1");
  assert.deepEqual({ up: state.up, ready: state.ready, reason: state.reason }, {
    up: false,
    ready: false,
    reason: "no answer: connection refused",
  });
  assert.equal(
    readyReason(503, JSON.stringify({ status: "not ready", stalled: true })),
    "the producer is stalled",
  );
  assert.equal(readyReason(500, "<html>"), "not ready (HTTP 500)");
});
