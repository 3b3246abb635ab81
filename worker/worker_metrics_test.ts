import assert from "node:assert/strict";
import { createRegistry } from "../shared/metrics.ts";
import { createWorkerMetrics, PAUSED_HELP } from "./worker_metrics.ts";

Deno.test("createWorkerMetrics() exports worker_paused_partitions as 0 before any pause", () => {
  const registry = createRegistry();
  createWorkerMetrics(registry);
  assert.match(registry.render(), /^worker_paused_partitions 0$/m);
});

Deno.test("docs/worker.md says what worker_paused_partitions counts, as its HELP does", async () => {
  const registry = createRegistry();
  createWorkerMetrics(registry);
  assert.ok(
    registry.render().split("\n").includes(`# HELP worker_paused_partitions ${PAUSED_HELP}`),
  );
  const docs = await Deno.readTextFile(new URL("../docs/worker.md", import.meta.url));
  const row = docs.split("\n").find((l) => l.startsWith("| `worker_paused_partitions`"));
  assert.ok(row, "docs/worker.md has a row for worker_paused_partitions");
  const meaning = row.split("|")[2]!.trim();
  assert.ok(
    meaning.startsWith(PAUSED_HELP[0]!.toLowerCase() + PAUSED_HELP.slice(1)),
    `the docs say: ${meaning}`,
  );
  assert.doesNotMatch(meaning, /retry/);
});
