/**
 * A minimal HTTP/1.1 client connection for the load generator: one keep-alive TCP connection,
 * one request at a time, responses with `Content-Length` (what `Deno.serve` sends for the
 * ingest's answers). Deno's `fetch` costs about as much CPU per request as the ingest itself
 * spends answering it; on a 2-core machine the generator would otherwise be what is measured.
 */

const encoder = new TextEncoder();
const HEAD_END = [13, 10, 13, 10];

/** One answer read by `HttpConnection`. */
export interface HttpAnswer {
  status: number;
  body: Uint8Array;
  /** The server said `Connection: close`: it takes no further request on this connection. */
  close: boolean;
}

/** One keep-alive connection to `host:port`. */
export class HttpConnection {
  #conn: Deno.TcpConn;
  #host: string;
  #buffer = new Uint8Array(64 * 1024);
  #filled = 0;

  private constructor(conn: Deno.TcpConn, host: string) {
    this.#conn = conn;
    this.#host = host;
  }

  /** Connects to `url`'s host and port (http only). */
  static async open(url: URL): Promise<HttpConnection> {
    if (url.protocol !== "http:") throw new Error(`Only http: URLs, got ${url.protocol}`);
    const port = Number(url.port || 80);
    const conn = await Deno.connect({ hostname: url.hostname, port });
    conn.setNoDelay(true);
    return new HttpConnection(conn, url.host);
  }

  /**
   * Sends one POST and reads the whole answer.
   * @returns the status code, the body's bytes and whether the server asked to close.
   * @throws {Error} when the connection closes or the answer is not HTTP/1.1 with a length.
   */
  async post(
    path: string,
    headers: Record<string, string>,
    body: Uint8Array,
  ): Promise<HttpAnswer> {
    await this.send(path, headers, body);
    return await this.receive();
  }

  /**
   * Writes one POST without reading its answer (`receive()` reads it): resolves once every
   * byte is handed to the socket, so a test knows the request was sent in full.
   * @throws {Error} when the connection is closed.
   */
  async send(path: string, headers: Record<string, string>, body: Uint8Array): Promise<void> {
    let head = `POST ${path} HTTP/1.1\r\nhost: ${this.#host}\r\ncontent-length: ${body.length}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    const headBytes = encoder.encode(head + "\r\n");
    const request = new Uint8Array(headBytes.length + body.length);
    request.set(headBytes, 0);
    request.set(body, headBytes.length);
    for (let written = 0; written < request.length;) {
      written += await this.#conn.write(request.subarray(written));
    }
  }

  /**
   * Reads the answer to the oldest request sent and not yet answered.
   * @throws {Error} when the connection closes first or the answer is not HTTP/1.1 with a length.
   */
  async receive(): Promise<HttpAnswer> {
    let headEnd = -1;
    while ((headEnd = indexOf(this.#buffer, this.#filled, HEAD_END)) < 0) await this.#fill();
    const head = new TextDecoder("latin1").decode(this.#buffer.subarray(0, headEnd));
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!head.startsWith("HTTP/1.1 ") || !length) {
      throw new Error(`Unsupported answer: ${head.split("\r\n")[0]}`);
    }
    const total = headEnd + 4 + Number(length[1]);
    while (this.#filled < total) await this.#fill(total);
    const body = this.#buffer.slice(headEnd + 4, total);
    this.#buffer.copyWithin(0, total, this.#filled);
    this.#filled -= total;
    return { status, body, close: /\r\nconnection:\s*close/i.test(head) };
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  async #fill(need = 0): Promise<void> {
    if (this.#buffer.length - this.#filled < Math.max(4096, need - this.#filled)) {
      const bigger = new Uint8Array(Math.max(this.#buffer.length * 2, need));
      bigger.set(this.#buffer.subarray(0, this.#filled));
      this.#buffer = bigger;
    }
    const n = await this.#conn.read(this.#buffer.subarray(this.#filled));
    if (n === null) throw new Error("Connection closed by the server");
    this.#filled += n;
  }
}

function indexOf(haystack: Uint8Array, length: number, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
