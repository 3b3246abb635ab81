import assert from "node:assert/strict";
import { parseMetricsText, sumOf } from "./metrics_text.ts";

Deno.test("parseMetricsText() reads names, escaped labels and values, and skips the rest", () => {
  const samples = parseMetricsText([
    "# HELP x y",
    "# TYPE worker_dead_letters_total counter",
    'worker_dead_letters_total{stage="schema"} 3',
    'worker_dead_letters_total{stage="wr\\"ite"} 2 1700000000000',
    "worker_rows_upserted_total 10",
    'worker_batch_duration_seconds_bucket{le="+Inf"} 4',
    "garbage line {",
    "nan_metric NaN",
  ].join("\n"));
  assert.deepEqual(samples.slice(0, 3), [
    { name: "worker_dead_letters_total", labels: { stage: "schema" }, value: 3 },
    { name: "worker_dead_letters_total", labels: { stage: 'wr"ite' }, value: 2 },
    { name: "worker_rows_upserted_total", labels: {}, value: 10 },
  ]);
  assert.equal(samples[3]!.labels.le, "+Inf");
  assert.equal(samples.length, 5);
  assert.equal(sumOf(samples, "worker_dead_letters_total"), 5);
  assert.equal(sumOf(samples, "worker_dead_letters_total", { stage: "schema" }), 3);
});
