/**
 * The test kit's one poller: waits for a condition on a real system (a row count, a committed
 * offset, a log line) with a deadline, and fails naming what it waited for.
 *
 * @example
 * ```ts
 * declare const count: () => Promise<number>;
 *
 * await waitUntil(async () => (await count()) === 2_000, 60_000, "2,000 rows");
 * ```
 */

/** How `waitUntil` polls. */
export interface WaitOptions {
  /**
   * Poll at this fixed interval in ms. By default the first poll comes after 20 ms and the
   * interval doubles up to 250 ms: quick for what is nearly there, light on a slow system.
   */
  intervalMs?: number;
}

/**
 * Polls `condition()` until it returns true.
 * @throws {Error} "Timed out after `timeoutMs` ms waiting for `what`" when the deadline passes
 * first; an error thrown by `condition` is passed on at once.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  opts: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = opts.intervalMs ?? 20;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (opts.intervalMs === undefined) delay = Math.min(delay * 2, 250);
  }
}
