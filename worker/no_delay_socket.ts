/**
 * A TCP socket factory for postgres.js with Nagle's algorithm off.
 *
 * postgres.js writes a COPY's data and its CopyDone message as two small writes; with Nagle on
 * (the default of Deno's `node:net` sockets, and postgres.js never turns it off), the second
 * waits for the server's delayed ACK: about 40 ms per COPY and again for the next query, which
 * made every batch cost ~90 ms. `setNoDelay` only takes effect once the socket is connected,
 * hence this factory (postgres.js's `socket` option expects a connected socket; it still does
 * TLS on top when `ssl` is set). Hosts are tried in the order given.
 */
import net from "node:net";

/** The part of postgres.js's options the factory reads. */
export interface SocketTarget {
  host: string[];
  port: number[];
}

/** Connects to the first host that answers within `timeoutMs`, with no-delay on. */
export async function connectNoDelay(
  target: SocketTarget,
  timeoutMs = 10_000,
): Promise<net.Socket> {
  let lastError: unknown = new Error("no host to connect to");
  for (let i = 0; i < target.host.length; i++) {
    const host = target.host[i]!;
    const port = target.port[i] ?? target.port[0] ?? 5432;
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect({ host, port });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(Object.assign(new Error(`connect timeout to ${host}:${port}`), {
            code: "CONNECT_TIMEOUT",
          }));
        }, timeoutMs);
        socket.once("connect", () => {
          clearTimeout(timer);
          socket.setNoDelay(true);
          resolve(socket);
        });
        socket.once("error", (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}
