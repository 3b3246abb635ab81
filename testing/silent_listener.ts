/**
 * The test kit's silent server: a TCP listener on 127.0.0.1 that accepts every connection and
 * never writes to it or closes it, like a wrong service port, a proxy or a half-dead broker.
 * It needs no stack.
 *
 * @example
 * ```ts
 * import { startProgram } from "./program.ts";
 *
 * await using silent = silentListener();
 * const ingest = await startProgram("ingest", { KAFKA_BROKERS: silent.address }, {
 *   listening: false,
 * });
 * ```
 */

/** A running silent listener. */
export interface SilentListener extends AsyncDisposable {
  /** `127.0.0.1:port`. */
  address: string;
  port: number;
  /** How many connections it accepted so far. */
  accepted(): number;
  /** Stops accepting and closes every connection it accepted. */
  close(): Promise<void>;
}

/** Starts a silent listener on a free loopback port. */
export function silentListener(): SilentListener {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) connections.push(conn);
    } catch { /* closed */ }
  })();
  const close = async () => {
    try {
      listener.close();
    } catch { /* closed */ }
    await accepting;
    for (const conn of connections) {
      try {
        conn.close();
      } catch { /* closed by the peer */ }
    }
  };
  return {
    address: `127.0.0.1:${listener.addr.port}`,
    port: listener.addr.port,
    accepted: () => connections.length,
    close,
    [Symbol.asyncDispose]: close,
  };
}
