/**
 * Reads a request body up to a byte limit and a deadline, counting the bytes as they stream in:
 * a declared `Content-Length` over the limit is refused before reading, and any body (chunked,
 * or with a `Content-Length` that lies) is cut off as soon as it passes the limit. Nothing here
 * trusts the transport to have enforced the declared length.
 *
 * A body that does not arrive within `timeoutMs` is refused (408): `Deno.serve` has no body
 * timeout of its own, and a client trickling bytes would otherwise hold a request open forever.
 * Encoded bodies (`Content-Encoding: gzip`, …) are refused (415): the ingest does not decode
 * them, and parsing compressed bytes as JSON would only fail later with a misleading answer.
 *
 * Two ways to read, one set of answers:
 * - `framed: true` (the body comes from `Deno.serve`, whose HTTP/1.1 and HTTP/2 layers deliver
 *   exactly `Content-Length` bytes or fail the body) and a `Content-Length` within the limit,
 *   no `Transfer-Encoding`: the body is read in one piece (`request.bytes()`, one native read
 *   of the declared size), without a stream reader, and its length is still checked.
 * - Otherwise (chunked bodies, a `Request` built in code whose header may lie): a stream reader
 *   counts the bytes as they come and cancels the body as soon as it passes the limit.
 *
 * The deadline is shared, not per request: all bodies of one timeout sit on one timer
 * (`deadline_queue.ts`); an expired one is cancelled (or, read in one piece, abandoned: the
 * 408 answer makes the server drop the connection and with it the read).
 */
import { createDeadlineQueue, type DeadlineQueue } from "../deadline_queue.ts";
import type { BodyLease } from "./body_budget.ts";
import { HttpError } from "./http_error.ts";

/**
 * How long a whole body may take to arrive, unless the caller says otherwise. Below the default
 * `INGEST_SHUTDOWN_TIMEOUT_MS` (15 s), so a trickling client cannot hold a graceful shutdown past
 * its deadline, and about what Standard Webhooks senders wait for an answer (15 s) anyway.
 */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/** Options for `readBody`. */
export interface ReadBodyOptions {
  /** Deadline for the whole body, in ms (default `DEFAULT_BODY_TIMEOUT_MS`). */
  timeoutMs?: number;
  /**
   * The transport enforces `Content-Length` (true for requests from `Deno.serve`; false,
   * the default, for a `Request` built in code): such a body is read in one piece.
   */
  framed?: boolean;
}

/** A body being read, as its deadline sees it. */
interface Pending {
  /** Cancels the read with the 408 answer. */
  expire(err: HttpError): void;
}

// One queue per timeout length (in practice one or two: the configured and the tests').
const queues = new Map<number, DeadlineQueue<Pending>>();
const queueFor = (ms: number) => {
  let q = queues.get(ms);
  if (!q) {
    const err = new HttpError(408, "Request timeout", `The body did not arrive within ${ms} ms`);
    q = createDeadlineQueue<Pending>({ ms, onExpire: (p) => p.expire(err) });
    queues.set(ms, q);
  }
  return q;
};

const DIGITS = /^\d{1,15}$/;

/**
 * The body's bytes. With a `lease`, the body's size (declared, or `maxBytes` when unknown) is
 * reserved on it before a byte is read; the caller releases it once the request is answered.
 * @throws {HttpError} 413 when the body is larger than `maxBytes`, 408 when it does not arrive
 * within the deadline, 415 for a `Content-Encoding` other than `identity`, 400 when the
 * `Content-Length` is malformed or differs from the bytes received, or the body cannot be read;
 * 503 when the lease's budget has no room for the body.
 */
export async function readBody(
  request: Request,
  maxBytes: number,
  opts: ReadBodyOptions = {},
  lease?: BodyLease,
): Promise<Uint8Array> {
  const headers = request.headers;
  const encoding = headers.get("content-encoding");
  if (encoding !== null) {
    const e = encoding.trim().toLowerCase();
    if (e && e !== "identity") {
      throw new HttpError(
        415,
        "Unsupported media type",
        `Content-Encoding "${e.slice(0, 40)}" is not supported: send the body unencoded`,
      );
    }
  }
  const declaredText = headers.get("content-length");
  let declared: number | null = null;
  if (declaredText !== null) {
    if (!DIGITS.test(declaredText.trim())) {
      throw new HttpError(400, "Bad request", "Cannot parse Content-Length: expected a byte count");
    }
    declared = Number(declaredText);
    if (declared > maxBytes) throw tooLarge(maxBytes, `${declared} bytes`);
  }
  if (!request.body) return new Uint8Array(0);
  const queue = queueFor(opts.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS);
  try {
    lease?.take(declared ?? maxBytes);
  } catch (err) {
    // Read the refused body to its end, keeping none of it, so that the client (still sending)
    // gets the 503 on a connection that stays usable rather than a reset.
    await readCounting(request.body, maxBytes, queue, false).catch(() => {});
    throw err;
  }
  const bytes = declared !== null && opts.framed && !headers.has("transfer-encoding")
    ? await readWhole(request, queue)
    : await readCounting(request.body, maxBytes, queue);
  if (declared !== null && bytes.length !== declared) {
    throw new HttpError(
      400,
      "Bad request",
      `Body is ${bytes.length} bytes, its Content-Length says ${declared}`,
    );
  }
  return bytes;
}

/** One native read of a body whose length the transport enforces. */
async function readWhole(request: Request, queue: DeadlineQueue<Pending>): Promise<Uint8Array> {
  const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>();
  request.bytes().then(resolve, reject);
  const deadline = queue.add({ expire: reject });
  try {
    return await promise;
  } catch (cause) {
    if (cause instanceof HttpError) throw cause;
    throw new HttpError(400, "Bad request", "Cannot read the request body", { cause });
  } finally {
    queue.done(deadline);
  }
}

/**
 * Reads a stream chunk by chunk, cancelling it as soon as it passes `maxBytes`; with `keep`
 * false the chunks are dropped as they come (an empty result).
 */
async function readCounting(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  queue: DeadlineQueue<Pending>,
  keep = true,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  let expired: HttpError | null = null;
  // Cancelling ends the pending read (done); the loop then answers 408.
  const deadline = queue.add({
    expire(err) {
      expired = err;
      reader.cancel(err).catch(() => {});
    },
  });
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (cause) {
        if (expired) throw expired;
        throw new HttpError(400, "Bad request", "Cannot read the request body", { cause });
      }
      if (expired) throw expired;
      if (result.done) break;
      size += result.value.length;
      if (size > maxBytes) throw tooLarge(maxBytes, `more than ${maxBytes} bytes`);
      if (keep) chunks.push(result.value);
    }
  } catch (err) {
    // Stop the sender: nothing more of this body will be read.
    if (!expired) await reader.cancel().catch(() => {});
    throw err;
  } finally {
    queue.done(deadline);
    reader.releaseLock();
  }
  if (!keep) return new Uint8Array(0);
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  return bytes;
}

function tooLarge(maxBytes: number, size: string): HttpError {
  return new HttpError(413, "Payload too large", `Body is ${size}, the limit is ${maxBytes} bytes`);
}
