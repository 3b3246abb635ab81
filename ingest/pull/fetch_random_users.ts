/**
 * Fetches users from the randomuser.me API (`GET <url>?results=N`) with a per-attempt timeout
 * and retries with exponential backoff and full jitter on network errors, timeouts, 429 and
 * 5xx. Other answers (4xx, a body that is not JSON) fail at once: retrying would not help.
 */
import { type Logger, silentLogger } from "../../shared/logger.ts";

/** Why a fetch failed; `retriable` says whether another attempt could have helped. */
export class FetchUsersError extends Error {
  override name = "FetchUsersError";
  /** Whether the failure was transient. */
  readonly retriable: boolean;

  constructor(message: string, retriable: boolean, opts: ErrorOptions = {}) {
    super(message, opts);
    this.retriable = retriable;
  }
}

/** Options for `fetchRandomUsers`. */
export interface FetchRandomUsersOptions {
  /** The API endpoint, e.g. `https://randomuser.me/api/`. */
  url: string;
  /** How many users to ask for (`results`). */
  count: number;
  /** Timeout of one attempt, in ms. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  /** Base backoff in ms: attempt n waits a random time up to `backoffMs * 2^n`. */
  backoffMs: number;
  /** Cancels the whole fetch, including backoff waits. */
  signal?: AbortSignal;
}

/** What `fetchRandomUsers` may be given instead of the globals (tests). */
export interface FetchRandomUsersDeps {
  fetch?: typeof fetch;
  random?: () => number;
  logger?: Logger;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * The parsed JSON body of the first successful answer.
 * @throws {FetchUsersError} after the last attempt, or at once for a non-retriable answer.
 */
export async function fetchRandomUsers(
  opts: FetchRandomUsersOptions,
  deps: FetchRandomUsersDeps = {},
): Promise<unknown> {
  const doFetch = deps.fetch ?? fetch;
  const random = deps.random ?? Math.random;
  const log = deps.logger ?? silentLogger;
  const url = new URL(opts.url);
  url.searchParams.set("results", String(opts.count));
  for (let attempt = 0;; attempt++) {
    try {
      return await attemptOnce(doFetch, url, opts);
    } catch (err) {
      const retriable = err instanceof FetchUsersError && err.retriable;
      if (!retriable || attempt >= opts.retries || opts.signal?.aborted) throw err;
      const delay = Math.min(MAX_BACKOFF_MS, opts.backoffMs * 2 ** attempt) * random();
      log.warn("randomuser fetch failed, retrying", {
        attempt: attempt + 1,
        delayMs: Math.round(delay),
        error: (err as Error).message,
      });
      await sleep(delay, opts.signal);
    }
  }
}

async function attemptOnce(
  doFetch: typeof fetch,
  url: URL,
  opts: FetchRandomUsersOptions,
): Promise<unknown> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await doFetch(url, { signal, headers: { accept: "application/json" } });
  } catch (cause) {
    const what = timeout.aborted
      ? `timed out after ${opts.timeoutMs} ms`
      : `failed: ${(cause as Error).message}`;
    throw new FetchUsersError(`GET ${url.origin}${url.pathname} ${what}`, true, { cause });
  }
  try {
    if (!response.ok) {
      const retriable = response.status === 429 || response.status >= 500;
      throw new FetchUsersError(
        `GET ${url.origin}${url.pathname} answered ${response.status}`,
        retriable,
      );
    }
    try {
      return await response.json();
    } catch (cause) {
      if (timeout.aborted) {
        throw new FetchUsersError(`Reading the answer timed out after ${opts.timeoutMs} ms`, true, {
          cause,
        });
      }
      throw new FetchUsersError(
        `The answer is not JSON: ${(cause as Error).message}`,
        false,
        { cause },
      );
    }
  } finally {
    // Release the connection whatever happened to the body.
    await response.body?.cancel().catch(() => {});
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
