import assert from "node:assert/strict";
import { createRegistry } from "../shared/metrics.ts";
import { createWorkerMetrics } from "./worker_metrics.ts";

Deno.test("createWorkerMetrics() exports worker_paused_partitions as 0 before any pause", () => {
  const registry = createRegistry();
  createWorkerMetrics(registry);
  assert.match(registry.render(), /^worker_paused_partitions 0$/m);
});
