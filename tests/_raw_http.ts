/**
 * A raw HTTP/1.1 exchange over a loopback socket, for requests `fetch` will not send: a lying
 * `Content-Length`, hand-made chunked bodies, a body that stalls or stops half-way.
 */

/** What the server answered (status 0 when it closed without a status line). */
export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/** How the request is sent after its head. */
export interface RawRequest {
  /** The request head up to and including the blank line. */
  head: string;
  /** Body parts written one after the other (the exchange stops writing once answered). */
  parts: Uint8Array[];
  /**
   * Then: half-close the socket (`end`: hyper takes it as the client leaving and may close
   * without answering), or keep it open without sending more (`stall`).
   */
  then: "end" | "stall";
  /** Give up after this many ms (a hang). */
  timeoutMs: number;
}

/**
 * Sends `req` to 127.0.0.1:`port` and reads the answer until the server closes or the head and
 * `Content-Length` body are complete.
 * @throws {Error} when no answer came within `timeoutMs`.
 */
export async function rawExchange(port: number, req: RawRequest): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let answered = false;
  const reading = readResponse(conn).finally(() => answered = true);
  const writing = (async () => {
    try {
      await writeAll(conn, encoder.encode(req.head));
      for (const part of req.parts) {
        if (answered) return;
        await writeAll(conn, part);
      }
      if (req.then === "end") await conn.closeWrite();
    } catch {
      // The server may close while we write (e.g. after a 413): the answer says what happened.
    }
  })();
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${req.timeoutMs} ms`)),
        req.timeoutMs,
      );
    });
    return await Promise.race([reading, timeout]);
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* already closed */ }
    await writing;
    await reading.catch(() => {});
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

async function readResponse(conn: Deno.Conn): Promise<RawResponse> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(64 * 1024);
  let text = "";
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch {
      n = null; // reset or closed by us: parse what arrived
    }
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1];
      if (length !== undefined && text.length - end - 4 >= Number(length)) break;
    }
  }
  const end = text.indexOf("\r\n\r\n");
  const head = end >= 0 ? text.slice(0, end) : text;
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, body: end >= 0 ? text.slice(end + 4) : "" };
}
