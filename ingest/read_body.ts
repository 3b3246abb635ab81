/**
 * Reads a request body up to a byte limit, without buffering more than the limit: a declared
 * `Content-Length` over the limit is refused before reading, and a chunked body is cut off as
 * soon as it passes the limit.
 */
import { HttpError } from "./http_error.ts";

/**
 * The body's bytes.
 * @throws {HttpError} 413 when the body is larger than `maxBytes`, 400 when it cannot be read.
 */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = (size: string) =>
    new HttpError(413, "Payload too large", `Body is ${size}, the limit is ${maxBytes} bytes`);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(`${declared} bytes`);
  if (!request.body) return new Uint8Array(0);
  if (declared !== null) {
    const bytes = new Uint8Array(await readAll(request));
    if (bytes.length > maxBytes) throw tooLarge(`${bytes.length} bytes`);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(`more than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  return bytes;
}

async function readAll(request: Request): Promise<ArrayBuffer> {
  try {
    return await request.arrayBuffer();
  } catch (cause) {
    throw new HttpError(400, "Bad request", "Cannot read the request body", { cause });
  }
}
