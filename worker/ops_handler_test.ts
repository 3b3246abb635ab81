import assert from "node:assert/strict";
import { createRegistry } from "../shared/metrics.ts";
import { createOpsHandler } from "./ops_handler.ts";

Deno.test("the ops handler answers health, readiness and metrics", async () => {
  const registry = createRegistry();
  registry.counter("worker_rows_upserted_total", "rows").inc({}, 3);
  let ready = false;
  const handler = createOpsHandler({ registry, live: () => true, ready: () => ready });
  assert.equal(handler(new Request("http://x/healthz")).status, 200);
  assert.equal(handler(new Request("http://x/readyz")).status, 503);
  ready = true;
  assert.equal(handler(new Request("http://x/readyz")).status, 200);
  const metrics = handler(new Request("http://x/metrics"));
  assert.match(await metrics.text(), /^worker_rows_upserted_total 3$/m);
  assert.equal(handler(new Request("http://x/nope")).status, 404);
  assert.equal(handler(new Request("http://x/healthz", { method: "POST" })).status, 405);
});
