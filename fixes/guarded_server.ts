/**
 * An HTTP server that its clients cannot take down: `Deno.serve` with a connection limit, header
 * and idle timeouts, and an accept loop that outlives a full file table.
 *
 * `Deno.serve` (2.5 to 2.9) has none of these: a connection that sends nothing, or sends half a
 * request head, stays open forever; so does an idle keep-alive connection. Enough of them use up
 * the open-file limit, and then its accept loop rejects with "Too many open files" and the
 * process dies (`Uncaught (in promise) Http: Error`); at that point Deno 2.5.6 can also panic
 * (a stack-growth check in the runtime fails to open `/proc/self/maps`). So the file table must
 * never fill: this server accepts connections itself and hands each one to the runtime's HTTP
 * layer (`serveHttpOnConnection`, the internal function `Deno.serve` and `node:http` are built
 * on), which lets it count them and close the ones nobody is using:
 *
 * - a new connection with no request head within `headerTimeoutMs` is closed, and so is one
 *   with no new request `idleTimeoutMs` after its last answer (a request head sent slowly after
 *   an answer counts as idle time: the runtime hands over a request only once its head is in);
 * - at `maxConnections`, a new connection takes the place of the one idle longest; when every
 *   connection has a request in flight, the new one is answered 503 with `Retry-After` and
 *   closed at once, so the number of open connections never passes `maxConnections` + 1;
 * - an accept that fails (a full file table, or any other error) is logged (once per 10 s),
 *   frees the oldest idle connection and is tried again after a short pause: the loop ends only
 *   with `shutdown()`.
 *
 * Without the internal function (a Deno that renamed it) it falls back to plain `Deno.serve` and
 * says so once: the service still runs, without these guards.
 *
 * See fixes/README.md: it can go when `Deno.serve` has header and idle timeouts and a connection
 * limit, and survives a full file table.
 */
import type { Logger } from "../shared/logger.ts";

/** Options of `serveGuarded`. */
export interface GuardedServeOptions {
  hostname: string;
  port: number;
  /** SO_REUSEPORT (Linux): several processes share the port. */
  reusePort?: boolean;
  /** Open connections at most; a new one beyond takes an idle one's place or gets 503. */
  maxConnections: number;
  /** A new connection's whole first request head must arrive within this. */
  headerTimeoutMs: number;
  /** A connection with no new request this long after its last answer is closed. */
  idleTimeoutMs: number;
  /** Called once listening, with the bound address. */
  onListen?(addr: Deno.NetAddr): void;
  /** The answer to a request whose handler threw. */
  onError(err: unknown): Response | Promise<Response>;
  logger: Logger;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

/** Counters of what the guards did (for logs, metrics and tests). */
export interface GuardStats {
  /** Connections open now. */
  open: number;
  /** Of those, the ones with no request in flight. */
  idle: number;
  /** Closed for sending no request head in time, or idle too long. */
  timedOut: number;
  /** Closed to make room for a new connection at the limit. */
  evicted: number;
  /** New connections answered 503 at the limit. */
  refused: number;
  /** Accepts that failed (a full file table, …). */
  acceptErrors: number;
}

/** A running guarded server. */
export interface GuardedServer {
  readonly addr: Deno.NetAddr;
  /** Whether connections are guarded (false: the plain `Deno.serve` fallback). */
  readonly guarded: boolean;
  /** Resolves once the server has shut down. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting, closes idle connections at once and the others after their answer in
   * flight; resolves when every connection is closed.
   */
  shutdown(): Promise<void>;
  stats(): GuardStats;
}

type Handler = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Promise<Response>;

/** What the runtime's HTTP layer returns for one connection. */
interface ConnectionServer {
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: Handler,
  onError: (err: unknown) => Response | Promise<Response>,
  onListen: () => void,
) => ConnectionServer;

/** The runtime's per-connection HTTP server, when this Deno has it under the known name. */
export function serveOnConnection(): ServeOnConnection | undefined {
  const internal = (Deno as unknown as Record<symbol, Record<string, unknown> | undefined>)[
    (Deno as unknown as { internal: symbol }).internal
  ];
  const fn = internal?.serveHttpOnConnection;
  return typeof fn === "function" ? fn as ServeOnConnection : undefined;
}

interface Connection {
  abort: AbortController;
  server?: ConnectionServer;
  inFlight: number;
  /** When it last became idle (accepted, or its last answer sent). */
  idleSince: number;
  /** No request yet: the header timeout applies, not the idle one. */
  fresh: boolean;
}

const PAUSE_AFTER_ACCEPT_ERROR_MS = 50;
const WARN_EVERY_MS = 10_000;
const REFUSAL_BODY = JSON.stringify({
  type: "about:blank",
  title: "Too many connections",
  status: 503,
  detail: "Every connection is busy: retry shortly.",
  reason: "connections",
});
const REFUSAL = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\n" +
    "content-type: application/problem+json\r\n" +
    "retry-after: 1\r\n" +
    "connection: close\r\n" +
    `content-length: ${REFUSAL_BODY.length}\r\n\r\n${REFUSAL_BODY}`,
);

/**
 * Aborts one connection's signal. The runtime's abort listener cancels the connection by its
 * resource id and throws "Bad resource ID" when the connection closed meanwhile (its client
 * left, and the runtime closed it a few promise turns before its `finished` settles). An error
 * thrown by an event listener is not thrown to `abort()`'s caller but reported as uncaught,
 * which ends the process: while this aborts, such a report is marked handled. Nothing else is.
 */
export function abortQuietly(controller: AbortController): void {
  if (controller.signal.aborted) return;
  if (!swallowInstalled) {
    swallowInstalled = true;
    globalThis.addEventListener("error", (event) => {
      if (aborting && event.error instanceof Deno.errors.BadResource) event.preventDefault();
    });
  }
  aborting = true;
  try {
    controller.abort();
  } finally {
    aborting = false;
  }
}
let aborting = false;
let swallowInstalled = false;

/**
 * Serves `handler` on `opts.hostname:opts.port` with the guards above.
 * @throws {Deno.errors.AddrInUse} (and other `Deno.listen` errors) when the port cannot be bound.
 */
export function serveGuarded(opts: GuardedServeOptions, handler: Handler): GuardedServer {
  const serveOn = serveOnConnection();
  if (!serveOn) return plainServe(opts, handler);
  const now = opts.now ?? performance.now.bind(performance);
  const log = opts.logger;
  const listener = Deno.listen({
    hostname: opts.hostname,
    port: opts.port,
    reusePort: opts.reusePort,
    transport: "tcp",
  });
  const addr = listener.addr;
  opts.onListen?.(addr);

  const open = new Set<Connection>();
  // Idle connections in the order they became idle: the first is the one idle longest.
  const idle = new Set<Connection>();
  const stats = { timedOut: 0, evicted: 0, refused: 0, acceptErrors: 0 };
  let closing = false;
  let lastWarnAt = -Infinity;
  let warnSuppressed = 0;

  const close = (c: Connection) => {
    idle.delete(c);
    abortQuietly(c.abort);
  };
  const evictOldestIdle = (): boolean => {
    for (const c of idle) {
      stats.evicted++;
      close(c);
      return true;
    }
    return false;
  };
  const becameIdle = (c: Connection) => {
    c.idleSince = now();
    idle.add(c);
  };

  // One sweep a second (or sooner for short timeouts) closes what waited too long: far cheaper
  // than a timer per connection, and a timeout a fraction of a second late harms nobody.
  const sweepMs = Math.max(10, Math.min(1000, opts.headerTimeoutMs / 4, opts.idleTimeoutMs / 4));
  const sweeper = setInterval(() => {
    const t = now();
    for (const c of idle) {
      const limit = c.fresh ? opts.headerTimeoutMs : opts.idleTimeoutMs;
      if (t - c.idleSince >= limit) {
        stats.timedOut++;
        close(c);
      } else if (t - c.idleSince < Math.min(opts.headerTimeoutMs, opts.idleTimeoutMs)) {
        // Everything after this one became idle later still.
        break;
      }
    }
  }, sweepMs);

  const serveConnection = (conn: Deno.Conn) => {
    const c: Connection = { abort: new AbortController(), inFlight: 0, idleSince: 0, fresh: true };
    open.add(c);
    becameIdle(c);
    const answered = () => {
      if (--c.inFlight === 0 && !c.abort.signal.aborted) becameIdle(c);
    };
    const onConnection: Handler = (request, info) => {
      if (c.inFlight++ === 0) idle.delete(c);
      c.fresh = false;
      info.completed.then(answered, answered);
      return handler(request, info);
    };
    try {
      c.server = serveOn(conn, c.abort.signal, onConnection, opts.onError, () => {});
    } catch (err) {
      open.delete(c);
      idle.delete(c);
      log.warn("cannot serve a connection", { error: (err as Error).message });
      try {
        conn.close();
      } catch { /* already closed */ }
      return;
    }
    c.server.finished.catch(() => {}).finally(() => {
      open.delete(c);
      idle.delete(c);
    });
  };

  const refuse = (conn: Deno.Conn) => {
    stats.refused++;
    conn.write(REFUSAL).catch(() => 0).finally(() => {
      try {
        conn.close();
      } catch { /* already closed */ }
    });
  };

  const acceptErrorPause = async (err: unknown) => {
    stats.acceptErrors++;
    const t = now();
    // Only the message: at a full file table, even printing a stack may need a file.
    if (t - lastWarnAt >= WARN_EVERY_MS) {
      log.warn("accepting a connection failed; freeing an idle one and trying again", {
        error: (err as Error)?.message ?? String(err),
        open: open.size,
        similarSinceLastLog: warnSuppressed,
      });
      lastWarnAt = t;
      warnSuppressed = 0;
    } else {
      warnSuppressed++;
    }
    evictOldestIdle();
    await new Promise((r) => setTimeout(r, PAUSE_AFTER_ACCEPT_ERROR_MS));
  };

  const accepting = (async () => {
    while (!closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (closing) break;
        await acceptErrorPause(err);
        continue;
      }
      if (closing) {
        refuse(conn);
        continue;
      }
      if (open.size >= opts.maxConnections && !evictOldestIdle()) {
        refuse(conn);
        continue;
      }
      serveConnection(conn);
    }
  })();

  const finished = Promise.withResolvers<void>();
  let shutdownStarted: Promise<void> | undefined;
  const shutdown = () => {
    shutdownStarted ??= (async () => {
      closing = true;
      clearInterval(sweeper);
      try {
        listener.close();
      } catch { /* already closed */ }
      await accepting;
      const waits: Promise<void>[] = [];
      for (const c of open) {
        if (c.inFlight === 0) close(c);
        else if (c.server) waits.push(c.server.shutdown().catch(() => {}));
        if (c.server) waits.push(c.server.finished.catch(() => {}));
      }
      await Promise.all(waits);
      finished.resolve();
    })();
    return shutdownStarted;
  };

  return {
    addr,
    guarded: true,
    finished: finished.promise,
    shutdown,
    stats: () => ({ open: open.size, idle: idle.size, ...stats }),
  };
}

/** `Deno.serve` without guards, for a Deno without the per-connection server. */
function plainServe(opts: GuardedServeOptions, handler: Handler): GuardedServer {
  opts.logger.warn(
    "this Deno has no per-connection HTTP server: connection limit, header and idle timeouts are off",
    { deno: Deno.version.deno },
  );
  let addr: Deno.NetAddr | undefined;
  const server = Deno.serve({
    hostname: opts.hostname,
    port: opts.port,
    reusePort: opts.reusePort,
    onListen: (a) => {
      addr = a as Deno.NetAddr;
      opts.onListen?.(addr);
    },
    onError: opts.onError,
  }, handler as (r: Request, i: Deno.ServeHandlerInfo) => Promise<Response>);
  return {
    get addr() {
      return addr ?? server.addr as Deno.NetAddr;
    },
    guarded: false,
    finished: server.finished,
    shutdown: () => server.shutdown(),
    stats: () => ({ open: 0, idle: 0, timedOut: 0, evicted: 0, refused: 0, acceptErrors: 0 }),
  };
}
