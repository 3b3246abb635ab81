/**
 * The test kit's blackhole: a TCP relay on 127.0.0.1 in front of a real server (PostgreSQL of
 * the stack) that can be told to swallow the bytes and answer nothing, like Toxiproxy's
 * `timeout` toxic with timeout 0 or a path that drops packets without a reset. No network tool
 * needed: the test points a client at the relay's port.
 *
 * While it swallows, it still accepts connections and reads what either side sends (TCP ACKs
 * it), but passes none of it on. Bytes swallowed are gone: a query in flight then never gets
 * an answer, even after `heal`. When either side closes, the relay closes the other.
 *
 * @example
 * ```ts
 * const relay = startTcpRelay({ hostname: "127.0.0.1", port: 5432 });
 * relay.swallow();        // both ways; "answers" swallows only what the server sends
 * relay.heal();
 * relay.swallowAnswersAfter("\0commit\0"); // once the client sent these bytes
 * await relay.close();
 * ```
 */

/** Which bytes the relay swallows: none, everything, or only the server's answers. */
export type Swallowing = "nothing" | "both" | "answers";

/** A running relay. */
export interface TcpRelay {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** From now on, swallows what both sides send, or only the server's answers. */
  swallow(which?: "both" | "answers"): void;
  /**
   * Passes bytes on until the client sends a chunk holding `marker` (latin1), then swallows
   * the server's answers: the server got the request, the client never hears back.
   */
  swallowAnswersAfter(marker: string): void;
  /** From now on, passes bytes on again. */
  heal(): void;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Starts a relay to `target`. */
export function startTcpRelay(target: { hostname: string; port: number }): TcpRelay {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const pumps = new Set<Promise<void>>();
  let swallowing: Swallowing = "nothing";
  let accepted = 0;
  let marker: string | undefined;
  const latin1 = new TextDecoder("latin1");

  const closeQuietly = (c: Deno.Conn) => {
    if (!conns.delete(c)) return;
    try {
      c.close();
    } catch { /* closed already */ }
  };

  /** Copies `from` to `to` until either ends; `answers` when `from` is the server. */
  const pump = async (from: Deno.Conn, to: Deno.Conn, answers: boolean) => {
    const buf = new Uint8Array(64 * 1024);
    try {
      // Ends when a side closes (null or an error): one iteration per chunk read.
      for (let n = await from.read(buf); n !== null; n = await from.read(buf)) {
        if (
          !answers && marker !== undefined && latin1.decode(buf.subarray(0, n)).includes(marker)
        ) {
          marker = undefined;
          swallowing = "answers";
        }
        if (swallowing === "both" || (answers && swallowing === "answers")) continue;
        for (let at = 0; at < n;) at += await to.write(buf.subarray(at, n));
      }
    } catch { /* a side closed */ }
    closeQuietly(from);
    closeQuietly(to);
  };

  const track = (p: Promise<void>) => {
    pumps.add(p);
    p.finally(() => pumps.delete(p));
  };

  const serve = async () => {
    for await (const client of listener) {
      accepted++;
      conns.add(client);
      let server: Deno.Conn;
      try {
        server = await Deno.connect(target);
      } catch {
        closeQuietly(client);
        continue;
      }
      conns.add(server);
      track(pump(client, server, false));
      track(pump(server, client, true));
    }
  };
  const serving = serve().catch(() => {});

  return {
    port: (listener.addr as Deno.NetAddr).port,
    get accepted() {
      return accepted;
    },
    swallow(which = "both") {
      swallowing = which;
    },
    swallowAnswersAfter(bytes) {
      marker = bytes;
    },
    heal() {
      swallowing = "nothing";
      marker = undefined;
    },
    async close() {
      listener.close();
      await serving;
      for (const c of [...conns]) closeQuietly(c);
      await Promise.all([...pumps]);
    },
  };
}
