/**
 * A deadline for one warehouse write. A connection whose packets are dropped (a blackholed
 * path, a proxy that swallows the bytes) gives no error: the query in flight waits for an
 * answer that never comes, and TCP keepalive does not help while a request is unanswered. The
 * client has to give up by itself; this is where it does.
 *
 * What must stay true: an expired write is reported as a `WriteError` with action `retry`, so
 * nothing is committed and the batch is written again. That is safe even when the expired
 * write had already sent its COMMIT and the warehouse applied it: the upsert is idempotent
 * (the newest event wins), so the second write finds those rows as new and leaves them
 * (counted as stale).
 */
import { WriteError } from "./write_error.ts";

/** The code of the `WriteError` an expired write fails with. */
export const WRITE_TIMEOUT = "WRITE_TIMEOUT";

/**
 * Runs `write`; when it has not settled after `ms`, calls `abandon` (which must end whatever
 * the write waits on, e.g. close its connections) and rejects at once, without waiting for
 * `write` to notice. A failure of the abandoned write later is ignored.
 * @throws {WriteError} action `retry`, code `WRITE_TIMEOUT`, when the deadline passes first; else
 * whatever `write` throws.
 */
export async function withWriteDeadline<T>(
  ms: number,
  write: () => Promise<T>,
  abandon: () => void,
): Promise<T> {
  const running = write();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      running.catch(() => {}); // its failure (connection destroyed) is this timeout
      let cause: unknown;
      try {
        abandon();
      } catch (err) {
        cause = err;
      }
      reject(
        new WriteError(
          `Warehouse write did not finish within ${ms} ms; its connection was closed`,
          "retry",
          WRITE_TIMEOUT,
          cause === undefined ? undefined : { cause },
        ),
      );
    }, ms);
  });
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}
