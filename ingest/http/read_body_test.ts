import assert from "node:assert/strict";
import { HttpError } from "./http_error.ts";
import { readBody } from "./read_body.ts";

/** A body stream of `chunks` chunks of `chunkSize` bytes that counts what was pulled. */
function countingStream(chunks: number, chunkSize: number) {
  const stats = { pulled: 0, cancelled: false };
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === chunks) return controller.close();
      sent++;
      stats.pulled += chunkSize;
      controller.enqueue(new Uint8Array(chunkSize).fill(0x20));
    },
    cancel() {
      stats.cancelled = true;
    },
  }, { highWaterMark: 0 }); // pulls only when read, so `pulled` is what readBody asked for
  return { stream, stats };
}

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request("http://ingest.test/v1/users", { method: "POST", body, headers });
}

async function refusal(promise: Promise<unknown>, status: number): Promise<HttpError> {
  const err = await promise.then(() => null, (e) => e);
  assert.ok(err instanceof HttpError, `expected an HttpError, got ${err}`);
  assert.equal(err.status, status, err.message);
  return err;
}

Deno.test("readBody() returns a body within the limit whose length matches", async () => {
  const bytes = await readBody(post("{}", { "content-length": "2" }), 1024);
  assert.equal(new TextDecoder().decode(bytes), "{}");
  assert.equal((await readBody(post(null), 1024)).length, 0);
});

Deno.test("readBody() refuses a declared Content-Length over the limit before reading", async () => {
  const { stream, stats } = countingStream(4, 1024);
  await refusal(readBody(post(stream, { "content-length": "4096" }), 1024), 413);
  assert.equal(stats.pulled, 0);
});

Deno.test("readBody() stops reading a body whose Content-Length lies, at the limit", async () => {
  // Declares 10 bytes and sends 1 MiB: only the streamed count can catch it.
  const { stream, stats } = countingStream(1024, 1024);
  await refusal(readBody(post(stream, { "content-length": "10" }), 4096), 413);
  assert.ok(stats.pulled <= 4096 + 2 * 1024, `read ${stats.pulled} bytes of a 4096-byte limit`);
  assert.ok(stats.cancelled, "the body stream is cancelled");
});

Deno.test("readBody() stops reading a chunked body at the limit", async () => {
  const { stream, stats } = countingStream(1024, 1024);
  await refusal(readBody(post(stream), 4096), 413);
  assert.ok(stats.pulled <= 4096 + 2 * 1024, `read ${stats.pulled} bytes of a 4096-byte limit`);
  assert.ok(stats.cancelled);
});

Deno.test("readBody() refuses a body shorter than its Content-Length", async () => {
  const { stream } = countingStream(1, 100);
  const err = await refusal(readBody(post(stream, { "content-length": "200" }), 4096), 400);
  assert.equal(err.message, "Body is 100 bytes, its Content-Length says 200");
});

Deno.test("readBody() refuses a malformed Content-Length", async () => {
  for (const value of ["abc", "-1", "1e3", "0x10", "1.5", "99999999999999999999"]) {
    const err = await refusal(readBody(post("{}", { "content-length": value }), 4096), 400);
    assert.equal(err.message, "Cannot parse Content-Length: expected a byte count", value);
  }
});

Deno.test("readBody() answers 408 for a body that does not arrive in time", async () => {
  let cancelled = false;
  const stalled = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("{"));
    },
    cancel() {
      cancelled = true;
    },
  });
  const err = await refusal(readBody(post(stalled), 4096, { timeoutMs: 50 }), 408);
  assert.equal(err.message, "The body did not arrive within 50 ms");
  assert.ok(cancelled, "the stalled body is cancelled");
});

Deno.test("readBody() answers 400, not 500, when the body stream fails mid-way", async () => {
  const broken = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("[{"));
      controller.error(new Error("connection reset"));
    },
  });
  const err = await refusal(readBody(post(broken), 4096), 400);
  assert.equal(err.message, "Cannot read the request body");
});

Deno.test("readBody() refuses an encoded body with 415", async () => {
  for (const encoding of ["gzip", "deflate", "br", "x-custom, gzip"]) {
    const err = await refusal(readBody(post("{}", { "content-encoding": encoding }), 4096), 415);
    assert.match(err.message, /^Content-Encoding ".*" is not supported/);
  }
  const bytes = await readBody(post("{}", { "content-encoding": "identity" }), 4096);
  assert.equal(bytes.length, 2);
});

// Bodies from `Deno.serve` (`framed`): read in one piece when their length is declared.

/** A loopback server answering `readBody(request, 1024, { framed, timeoutMs: 50 })`. */
function framedServer(): { port: number; server: Deno.HttpServer } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    try {
      const bytes = await readBody(request, 1024, { framed: true, timeoutMs: 50 });
      return new Response(`${bytes.length}:${new TextDecoder().decode(bytes)}`);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return new Response(err.message, { status: err.status });
    }
  });
  return { port: server.addr.port, server };
}

/**
 * Writes `head` and `parts` to the server without ending the request, and reads the answer
 * (its head and `Content-Length` body).
 */
async function raw(head: string, parts: Uint8Array[], port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    for (const p of [bytesOf(head), ...parts]) await conn.write(p);
    let text = "";
    const buf = new Uint8Array(4096);
    const decoder = new TextDecoder();
    for (let reads = 0; reads < 100; reads++) {
      const end = text.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(text);
      if (end >= 0 && length && text.length >= end + 4 + Number(length[1])) {
        return { status: Number(text.slice(9, 12)), body: text.slice(end + 4) };
      }
      const n = await conn.read(buf);
      if (n === null) break;
      text += decoder.decode(buf.subarray(0, n));
    }
    throw new Error(`no complete answer: ${text}`);
  } finally {
    conn.close();
  }
}

const headOf = (extra: string) =>
  `POST /v1/users HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n${extra}\r\n`;
const bytesOf = (text: string) => new TextEncoder().encode(text);

Deno.test("readBody() reads a Content-Length body from Deno.serve in one piece", async () => {
  const { port, server } = framedServer();
  try {
    const answer = await raw(headOf("content-length: 7\r\n"), [bytesOf('{"a":1}')], port);
    assert.equal(answer.status, 200);
    assert.equal(answer.body, '7:{"a":1}');
  } finally {
    await server.shutdown();
  }
});

Deno.test("readBody() answers 408 for a body from Deno.serve that stalls after its head", async () => {
  const { port, server } = framedServer();
  try {
    const answer = await raw(headOf("content-length: 100\r\n"), [bytesOf('{"a":')], port);
    assert.equal(answer.status, 408);
    assert.equal(answer.body, "The body did not arrive within 50 ms");
  } finally {
    await server.shutdown();
  }
});

Deno.test("readBody() still counts a chunked body from Deno.serve and stops it at the limit", async () => {
  const { port, server } = framedServer();
  const chunk = (n: number) => bytesOf(`${n.toString(16)}\r\n${" ".repeat(n)}\r\n`);
  try {
    const over = await raw(
      headOf("transfer-encoding: chunked\r\n"),
      Array.from({ length: 8 }, () => chunk(512)),
      port,
    );
    assert.equal(over.status, 413);
    assert.equal(over.body, "Body is more than 1024 bytes, the limit is 1024 bytes");
    const within = await raw(
      headOf("transfer-encoding: chunked\r\n"),
      [bytesOf("3\r\n{}\n\r\n0\r\n\r\n")],
      port,
    );
    assert.equal(within.status, 200);
    assert.equal(within.body, "3:{}\n");
  } finally {
    await server.shutdown();
  }
});

Deno.test("readBody() refuses a declared length over the limit from Deno.serve before reading", async () => {
  const { port, server } = framedServer();
  try {
    const answer = await raw(headOf("content-length: 4096\r\n"), [], port);
    assert.equal(answer.status, 413);
    assert.equal(answer.body, "Body is 4096 bytes, the limit is 1024 bytes");
  } finally {
    await server.shutdown();
  }
});
