import assert from "node:assert/strict";
import { HttpConnection } from "../load/http_connection.ts";
import { silentLogger } from "../shared/logger.ts";
import { waitUntil } from "../testing/wait.ts";
import {
  abortQuietly,
  type GuardedServeOptions,
  type GuardedServer,
  serveGuarded,
  serveOnConnection,
} from "./guarded_server.ts";

type Handler = (request: Request) => Promise<Response>;

const ok: Handler = async (request) => {
  await request.body?.cancel();
  return Response.json({ ok: true });
};

/** A guarded server on a free loopback port. */
function serve(opts: Partial<GuardedServeOptions>, handler: Handler = ok): GuardedServer {
  return serveGuarded({
    hostname: "127.0.0.1",
    port: 0,
    maxConnections: 100,
    headerTimeoutMs: 60_000,
    idleTimeoutMs: 60_000,
    onError: () => new Response(null, { status: 500 }),
    logger: silentLogger,
    ...opts,
  }, handler);
}

const url = (server: GuardedServer) => new URL(`http://127.0.0.1:${server.addr.port}/`);

/**
 * Everything the server sends until it closes the connection; fails after `ms` (a hang).
 * The server closing is what the tests wait for.
 */
async function readUntilClosed(conn: Deno.Conn, ms = 10_000): Promise<string> {
  const chunks: Uint8Array[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the server did not close within ${ms} ms`)), ms);
  });
  const reading = (async () => {
    const buf = new Uint8Array(4096);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        return; // reset: closed too
      }
      if (n === null) return;
      chunks.push(buf.slice(0, n));
    }
  })();
  try {
    await Promise.race([reading, timeout]);
  } finally {
    clearTimeout(timer);
    conn.close();
  }
  return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
}

const connect = (server: GuardedServer) =>
  Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });

const post = (c: HttpConnection) =>
  c.post("/", { "content-type": "application/json" }, new Uint8Array(2));

Deno.test("serveGuarded() has the runtime's per-connection server on this Deno", () => {
  // Without it the ingest runs unguarded (plain Deno.serve): this test says so first.
  assert.equal(typeof serveOnConnection(), "function");
  const server = serve({});
  assert.equal(server.guarded, true);
  return server.shutdown();
});

Deno.test("serveGuarded() closes a connection that sends no request head within the header timeout", async () => {
  const server = serve({ headerTimeoutMs: 100 });
  try {
    const conn = await connect(server);
    assert.equal(await readUntilClosed(conn), "", "closed without an answer");
    assert.equal(server.stats().timedOut, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveGuarded() closes a half-sent request head at the header timeout", async () => {
  const server = serve({ headerTimeoutMs: 100 });
  try {
    const conn = await connect(server);
    await conn.write(new TextEncoder().encode("POST / HTTP/1.1\r\nhost: x\r\ncontent-le"));
    assert.equal(await readUntilClosed(conn), "");
    assert.equal(server.stats().timedOut, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveGuarded() keeps a busy keep-alive connection and closes it once idle past the idle timeout", async () => {
  const server = serve({ idleTimeoutMs: 150 });
  const c = await HttpConnection.open(url(server));
  try {
    for (let i = 0; i < 3; i++) assert.equal((await post(c)).status, 200);
    assert.equal(server.stats().open, 1);
    await assert.rejects(c.receive(), /closed/, "the idle connection is closed");
    assert.equal(server.stats().timedOut, 1);
    assert.equal(server.stats().open, 0);
  } finally {
    c.close();
    await server.shutdown();
  }
});

Deno.test("serveGuarded() at the limit lets a new connection take the place of the one idle longest", async () => {
  const server = serve({ maxConnections: 2 });
  try {
    const oldest = await connect(server);
    const second = await HttpConnection.open(url(server));
    assert.equal((await post(second)).status, 200);
    const closing = readUntilClosed(oldest);
    const third = await HttpConnection.open(url(server));
    assert.equal((await post(third)).status, 200, "the new connection is served");
    assert.equal(await closing, "", "the connection idle longest was closed");
    assert.equal(server.stats().evicted, 1);
    assert.equal(server.stats().refused, 0);
    second.close();
    third.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveGuarded() at the limit with every connection busy answers a new one 503 with Retry-After", async () => {
  const release = Promise.withResolvers<void>();
  const server = serve({ maxConnections: 1 }, async (request) => {
    await request.body?.cancel();
    await release.promise;
    return Response.json({ ok: true });
  });
  const busy = await HttpConnection.open(url(server));
  try {
    await busy.send("/", {}, new Uint8Array(0));
    const waiting = busy.receive();
    // Wait until the request is in flight: the connection is no longer idle.
    await waitUntil(() => server.stats().idle === 0, 10_000, "the request in flight");
    const refused = await readUntilClosed(await connect(server));
    assert.match(refused, /^HTTP\/1\.1 503 /);
    assert.match(refused, /\r\nretry-after: 1\r\n/);
    assert.match(refused, /"title":"Too many connections"/);
    assert.equal(server.stats().refused, 1);
    release.resolve();
    assert.equal((await waiting).status, 200, "the request in flight keeps its answer");
  } finally {
    release.resolve();
    busy.close();
    await server.shutdown();
  }
});

Deno.test("serveGuarded() shutdown closes idle connections at once and answers the request in flight", async () => {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const server = serve({}, async (request) => {
    await request.body?.cancel();
    started.resolve();
    await release.promise;
    return Response.json({ ok: true });
  });
  const idle = await connect(server);
  const busy = await HttpConnection.open(url(server));
  try {
    await busy.send("/", {}, new Uint8Array(0));
    const answer = busy.receive();
    await started.promise;
    const stopping = server.shutdown();
    assert.equal(await readUntilClosed(idle), "", "the idle connection is closed at once");
    release.resolve();
    assert.equal((await answer).status, 200);
    await stopping;
    await server.finished;
    assert.equal(server.stats().open, 0);
  } finally {
    release.resolve();
    busy.close();
    await server.shutdown();
  }
});

Deno.test("abortQuietly() closing a connection the runtime already closed does not end the process", async () => {
  const serveOn = serveOnConnection()!;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const conn = await listener.accept();
  const abort = new AbortController();
  const server = serveOn(conn, abort.signal, ok, () => new Response(null), () => {});
  client.close();
  await server.finished;
  // A plain abort() here is reported as an uncaught "Bad resource ID" and fails the test.
  abortQuietly(abort);
  assert.equal(abort.signal.aborted, true);
  listener.close();
});
