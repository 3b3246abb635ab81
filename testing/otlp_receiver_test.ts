import assert from "node:assert/strict";
import { startOtlpReceiver } from "./otlp_receiver.ts";

Deno.test("startOtlpReceiver() keeps the spans of an OTLP/HTTP JSON export, flattened", async () => {
  await using otlp = await startOtlpReceiver();
  const body = {
    resourceSpans: [{
      resource: { attributes: [{ key: "service.name", value: { stringValue: "svc" } }] },
      scopeSpans: [{
        scope: { name: "deno" },
        spans: [{
          traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
          spanId: "00f067aa0ba902b7",
          parentSpanId: "",
          name: "POST",
          kind: 2,
          attributes: [
            { key: "http.request.method", value: { stringValue: "POST" } },
            { key: "count", value: { intValue: "3" } },
          ],
          links: [{ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" }],
          status: { code: 2 },
        }],
      }],
    }],
  };
  const response = await fetch(`${otlp.url}/v1/traces`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.deepEqual(otlp.spans, [{
    service: "svc",
    scope: "deno",
    name: "POST",
    kind: 2,
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    parentSpanId: "",
    attributes: { "http.request.method": "POST", count: 3 },
    links: [{ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" }],
    status: 2,
  }]);
  assert.equal(otlp.env("svc").OTEL_EXPORTER_OTLP_ENDPOINT, otlp.url);
});

Deno.test("startOtlpReceiver() refuses protobuf (the default protocol) with 415 and counts every request", async () => {
  await using otlp = await startOtlpReceiver();
  const response = await fetch(`${otlp.url}/v1/logs`, {
    method: "POST",
    headers: { "content-type": "application/x-protobuf" },
    body: new Uint8Array([1, 2, 3]),
  });
  assert.equal(response.status, 415);
  await response.body?.cancel();
  assert.deepEqual([...otlp.requests], [["/v1/logs", 1]]);
  assert.deepEqual(otlp.spans, []);
});
