/**
 * Whether a `host:port` accepts a TCP connection at all: after a server gave no answer in time,
 * this tells "something listens there but does not speak our protocol" (a wrong service port,
 * a proxy, a half-dead server) from "nothing can be reached" (a wrong host, a firewall that
 * drops the packets).
 *
 * @example
 * ```ts
 * const probe = await acceptsConnection("127.0.0.1:9092");
 * if (probe.accepted) console.log("listening, but silent");
 * ```
 */

/** What the connection attempt found. */
export type ConnectionProbe =
  | { accepted: true }
  | { accepted: false; reason: string };

/**
 * Opens a TCP connection to `address` (`host:port`, `[v6]:port`) and closes it at once.
 * Never throws: a refusal, a name that does not resolve, or no answer within `timeoutMs`
 * (default 2,000) is `accepted: false` with the reason.
 */
export async function acceptsConnection(
  address: string,
  timeoutMs = 2_000,
): Promise<ConnectionProbe> {
  const i = address.lastIndexOf(":");
  const hostname = address.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  const port = Number(address.slice(i + 1));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<ConnectionProbe>((resolve) => {
    timer = setTimeout(
      () => resolve({ accepted: false, reason: `no connection within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
  });
  const attempt = Deno.connect({ hostname, port }).then(
    (conn): ConnectionProbe => {
      conn.close();
      return { accepted: true };
    },
    (err): ConnectionProbe => ({ accepted: false, reason: (err as Error).message }),
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
