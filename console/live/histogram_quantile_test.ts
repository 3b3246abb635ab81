import assert from "node:assert/strict";
import { bucketsMinus, histogramQuantile } from "./histogram_quantile.ts";

Deno.test("histogramQuantile() interpolates inside the bucket, as PromQL does", () => {
  const b = new Map([[0.01, 50], [0.1, 90], [1, 100], [Infinity, 100]]);
  assert.equal(histogramQuantile(0.5, b), 0.01);
  assert.ok(Math.abs(histogramQuantile(0.7, b)! - 0.055) < 1e-9);
  assert.ok(Math.abs(histogramQuantile(0.99, b)! - 0.91) < 1e-9);
  assert.equal(histogramQuantile(0.5, new Map([[1, 0], [Infinity, 0]])), null, "no observation");
  assert.equal(
    histogramQuantile(0.99, new Map([[1, 1], [Infinity, 5]])),
    1,
    "in +Inf: the largest bound",
  );
  assert.deepEqual(
    bucketsMinus(b, new Map([[0.01, 40], [0.1, 95]])),
    new Map([[0.01, 10], [0.1, 0], [1, 100], [Infinity, 100]]),
  );
});
