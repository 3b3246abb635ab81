/**
 * Workaround: `@platformatic/kafka` 2.12 forgets a broker connection that failed without
 * closing it, and such a connection can fail a second time with nobody listening.
 *
 * Under Deno, `node:tls` reports `secureConnect` before the handshake: against a port that does
 * not speak TLS (`KAFKA_SSL=true` on a plaintext listener) the client's first write fails
 * ("write UNKNOWN"), the connection emits `error`, and the pool drops it from its map, so the
 * client's `close()` never closes it. Its socket stays open until the process exits; then the
 * SASL request still waiting on it fails, the connection emits `error` again, and with no
 * listener left that is an uncaught `Connection to 127.0.0.1:N failed.` after the program (or a
 * test run) has ended: 4 of them per client, one per attempt.
 *
 * `closeFailedConnections(client)` destroys a connection's socket as soon as the client reports
 * it failed (`client:broker:failed`), and keeps a listener for its late errors: the failure was
 * already given, once, to the request that made the connection.
 *
 * See fixes/README.md: it can go when the client closes a connection it drops.
 *
 * @example
 * ```ts
 * import { Admin } from "@platformatic/kafka";
 * import { closeFailedConnections } from "./failed_connections.ts";
 * const admin = new Admin({ clientId: "x", bootstrapBrokers: ["127.0.0.1:9092"] });
 * closeFailedConnections(admin);
 * ```
 */

/** The part of a broker connection this touches. */
interface FailedConnection {
  on(event: "error", listener: (err: unknown) => void): unknown;
  readonly socket?: { destroy(): void } | null;
}

/** A `@platformatic/kafka` client (`Producer`, `Consumer`, `Admin`), by its events. */
export interface KafkaClientEvents {
  // deno-lint-ignore no-explicit-any -- the client's EventEmitter signature
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** Makes `client` close each broker connection that failed, at once (see above). */
export function closeFailedConnections<C extends KafkaClientEvents>(client: C): C {
  client.on("client:broker:failed", (payload: { connection?: FailedConnection }) => {
    const connection = payload?.connection;
    if (!connection) return;
    connection.on("error", () => {});
    try {
      connection.socket?.destroy();
    } catch { /* already closed */ }
  });
  return client;
}
