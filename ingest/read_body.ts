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
 */
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
}

/**
 * The body's bytes.
 * @throws {HttpError} 413 when the body is larger than `maxBytes`, 408 when it does not arrive
 * within the deadline, 415 for a `Content-Encoding` other than `identity`, 400 when the
 * `Content-Length` is malformed or differs from the bytes received, or the body cannot be read.
 */
export async function readBody(
  request: Request,
  maxBytes: number,
  opts: ReadBodyOptions = {},
): Promise<Uint8Array> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const tooLarge = (size: string) =>
    new HttpError(413, "Payload too large", `Body is ${size}, the limit is ${maxBytes} bytes`);
  const encoding = request.headers.get("content-encoding")?.trim().toLowerCase();
  if (encoding && encoding !== "identity") {
    throw new HttpError(
      415,
      "Unsupported media type",
      `Content-Encoding "${encoding.slice(0, 40)}" is not supported: send the body unencoded`,
    );
  }
  const declaredText = request.headers.get("content-length");
  let declared: number | null = null;
  if (declaredText !== null) {
    if (!/^\d{1,15}$/.test(declaredText.trim())) {
      throw new HttpError(400, "Bad request", "Cannot parse Content-Length: expected a byte count");
    }
    declared = Number(declaredText);
    if (declared > maxBytes) throw tooLarge(`${declared} bytes`);
  }
  if (!request.body) return new Uint8Array(0);

  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new HttpError(408, "Request timeout", `The body did not arrive within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
  });
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await Promise.race([reader.read(), timedOut]);
      } catch (cause) {
        if (cause instanceof HttpError) throw cause;
        throw new HttpError(400, "Bad request", "Cannot read the request body", { cause });
      }
      if (result.done) break;
      size += result.value.length;
      if (size > maxBytes) throw tooLarge(`more than ${maxBytes} bytes`);
      chunks.push(result.value);
    }
  } catch (err) {
    // Stop the sender: nothing more of this body will be read.
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  if (declared !== null && size !== declared) {
    throw new HttpError(
      400,
      "Bad request",
      `Body is ${size} bytes, its Content-Length says ${declared}`,
    );
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  return bytes;
}
