/**
 * Closing keep-alive HTTP/1.1 connections at shutdown without cutting a request.
 *
 * `server.shutdown()` of `Deno.serve` alone cuts requests: it closes at once every connection
 * with no request being handled, including one whose next request already sits in the socket,
 * sent in full but not read yet (the runtime's one thread was busy, with the signal for one);
 * and from Deno 2.8 it answers the requests in flight without `Connection: close`, so their
 * clients send the next request into a connection that is closing. Such a client sees the
 * connection closed after its request was sent, and cannot tell whether it was accepted.
 *
 * The drain closes connections the HTTP way instead. From `drain()` on, every answer carries
 * `Connection: close` (requests in flight finish as usual), and a request that starts then is
 * answered with `refuse` (the ingest's says 503 `shutting_down` with `Retry-After`): nothing of
 * it is handled. `drain()`
 * resolves once every connection used in the last `maxWaitMs` has had its last answer, or
 * after `maxWaitMs`. Only then may `server.shutdown()` close what is left: connections idle for
 * longer, whose clients must expect an idle connection to close (RFC 9112, section 9.6).
 *
 * Connections are told apart by the client's address and port; what became of one is not
 * observable through `Deno.serve`, so one unused for `maxWaitMs` is forgotten.
 */
/** What the drain needs to know about a request's connection (`Deno.serve` passes more). */
export type ConnectionInfo = Pick<Deno.ServeHandlerInfo, "remoteAddr" | "completed">;

/** Options of `createConnectionDrain`. */
export interface ConnectionDrainOptions {
  /** Longest wait in `drain()`; also how long an unused connection is remembered. */
  maxWaitMs: number;
  /**
   * The answer to a request that starts once draining; it is not handled, so the answer must
   * tell the client to send it again (the ingest's: `shuttingDownResponse`, a 503).
   */
  refuse(request: Request): Response;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

/** A handler that lets its keep-alive connections close with an answer. */
export interface ConnectionDrain {
  /** Answers with the wrapped handler, or 503 once draining; the `Deno.serve` handler. */
  handler(request: Request, info: ConnectionInfo): Promise<Response>;
  /** Starts draining; resolves when the connections had their last answer (see above). */
  drain(): Promise<void>;
  /** Connections remembered and those still owed their last answer (for logs and tests). */
  stats(): { connections: number; owed: number };
}

interface Connection {
  inFlight: number;
  /** Last request started or answered. */
  seenAt: number;
  /** Its last answer said `Connection: close`. */
  closing: boolean;
}

/** Wraps `handler` so that its connections can be drained. */
export function createConnectionDrain(
  handler: (request: Request) => Promise<Response>,
  opts: ConnectionDrainOptions,
): ConnectionDrain {
  const now = opts.now ?? performance.now.bind(performance);
  // In the order of their last request: the ones unused longest come first.
  const connections = new Map<string, Connection>();
  let draining = false;
  const drained = Promise.withResolvers<void>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const owed = (c: Connection) => c.inFlight > 0 || !c.closing;
  const forgetUnused = () => {
    const t = now();
    for (const [key, c] of connections) {
      if (t - c.seenAt <= opts.maxWaitMs) break;
      if (c.inFlight === 0) connections.delete(key);
    }
  };
  const settleIfDone = () => {
    if (!draining) return;
    for (const c of connections.values()) if (owed(c)) return;
    clearTimeout(timer);
    drained.resolve();
  };

  return {
    async handler(request, info) {
      const key = addressKey(info.remoteAddr);
      const connection = connections.get(key) ?? { inFlight: 0, seenAt: 0, closing: false };
      connections.delete(key);
      connections.set(key, connection);
      connection.inFlight++;
      connection.seenAt = now();
      forgetUnused();
      // `completed` rejects when the answer could not be sent: the client has gone.
      const answered = (gone: boolean) => {
        connection.inFlight--;
        connection.seenAt = now();
        if ((gone || connection.closing) && connection.inFlight === 0) connections.delete(key);
        settleIfDone();
      };
      info.completed.then(() => answered(false), () => answered(true));
      const response = draining ? opts.refuse(request) : await handler(request);
      // Decided when answering: a request in flight when the drain began gets its own answer,
      // and that answer is the connection's last.
      if (!draining) return response;
      connection.closing = true;
      try {
        // In place: a copy would turn a fixed body into a stream, sent chunked.
        response.headers.set("connection", "close");
        return response;
      } catch {
        // Immutable headers (`Response.error()`, `Response.redirect()`).
        const headers = new Headers(response.headers);
        headers.set("connection", "close");
        const { status, statusText } = response;
        return new Response(response.body, { status, statusText, headers });
      }
    },
    drain() {
      if (!draining) {
        draining = true;
        forgetUnused();
        timer = setTimeout(drained.resolve, opts.maxWaitMs);
        settleIfDone();
      }
      return drained.promise;
    },
    stats() {
      let n = 0;
      for (const c of connections.values()) if (owed(c)) n++;
      return { connections: connections.size, owed: n };
    },
  };
}

function addressKey(addr: Deno.Addr): string {
  switch (addr.transport) {
    case "tcp":
    case "udp":
      return `${addr.hostname}:${addr.port}`;
    default:
      return JSON.stringify(addr);
  }
}
