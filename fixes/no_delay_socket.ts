/**
 * A TCP socket factory for postgres.js with Nagle's algorithm off.
 *
 * postgres.js writes a COPY's data and its CopyDone message as two small writes; with Nagle on
 * (the default of Deno's `node:net` sockets, and postgres.js never turns it off), the second
 * waits for the server's delayed ACK: about 40 ms per COPY and again for the next query, which
 * made every batch cost ~90 ms. `setNoDelay` only takes effect once the socket is connected,
 * hence this factory for postgres.js's `socket` option.
 *
 * What must stay true: the factory returns the socket at once, still connecting, and never
 * throws. postgres.js then writes its startup message (buffered until connected) and handles a
 * refused connection through the socket's `error` and `close` events exactly as with its own
 * sockets, so the pool reconnects after an outage. (A factory that awaited the connection and
 * threw on refusal left each failed connection stuck in postgres.js's "connecting" state: after
 * as many refusals as pool slots, every query waited forever.) Connect timeouts stay
 * postgres.js's (`connect_timeout`). Only the first host is used; TLS is not handled here, so
 * `main.ts` uses the factory only for plain connections.
 */
import net from "node:net";

/** The part of postgres.js's options the factory reads. */
export interface SocketTarget {
  host: string[];
  port: number[];
}

/** A socket connecting to the first host, with no-delay set once it is connected. */
export function connectNoDelay(target: SocketTarget): net.Socket {
  const socket = net.connect({ host: target.host[0] ?? "localhost", port: target.port[0] ?? 5432 });
  socket.once("connect", () => socket.setNoDelay(true));
  return socket;
}
