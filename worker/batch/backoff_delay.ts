/**
 * Retry delays: exponential, capped, with jitter so that several workers hitting the same
 * outage do not retry in lock-step.
 */

/**
 * The delay before retry number `attempt` (0-based): between half and all of
 * `min(maxMs, minMs · 2^attempt)`.
 */
export function backoffDelay(
  attempt: number,
  opts: { minMs: number; maxMs: number; random?: () => number },
): number {
  const random = opts.random ?? Math.random;
  const ceiling = Math.min(opts.maxMs, opts.minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * ceiling / 2);
}
