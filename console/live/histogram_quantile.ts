/**
 * A quantile from Prometheus histogram buckets, as PromQL's `histogram_quantile` computes it:
 * linear interpolation inside the bucket the rank falls in; the largest finite bound when it
 * falls in `+Inf`; null without observations.
 */

/** Cumulative counts by upper bound (`le`, `Infinity` for `+Inf`). */
export type Buckets = ReadonlyMap<number, number>;

/** The `q` quantile (0 … 1) of `buckets`, or null when they hold no observation. */
export function histogramQuantile(q: number, buckets: Buckets): number | null {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      if (count === lowerCount) return le;
      return lowerBound + (le - lowerBound) * ((rank - lowerCount) / (count - lowerCount));
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/** `a - b` bucket by bucket (counts never below 0). */
export function bucketsMinus(a: Buckets, b: Buckets): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, count] of a) out.set(le, Math.max(0, count - (b.get(le) ?? 0)));
  return out;
}
