/**
 * A TLS handshake with one broker, to say why a connection failed.
 *
 * Deno's `node:tls` reports most handshake failures as "write UNKNOWN", which names nothing.
 * Deno's own TLS says exactly what went wrong (an unknown issuer, a name the certificate does
 * not carry, a peer that does not speak TLS), so after a failure the Kafka layer asks it.
 */

/** What the handshake found. */
export type TlsProbeResult =
  | { kind: "ok" }
  | { kind: "not_tls" }
  | { kind: "unknown_ca"; message: string }
  | { kind: "bad_name"; message: string }
  | { kind: "unreachable"; message: string }
  | { kind: "other"; message: string };

/** Tries a TLS handshake with `broker` (`host:port`), trusting `ca` (or the system store). */
export async function probeTls(
  broker: string,
  opts: { ca?: string; servername?: string; timeoutMs?: number } = {},
): Promise<TlsProbeResult> {
  const i = broker.lastIndexOf(":");
  const hostname = broker.slice(0, i);
  const port = Number(broker.slice(i + 1));
  let tcp: Deno.TcpConn | undefined;
  let tls: Deno.TlsConn | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<TlsProbeResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ kind: "other", message: "no TLS answer in time" }),
      opts.timeoutMs ?? 3_000,
    );
  });
  const attempt = (async (): Promise<TlsProbeResult> => {
    try {
      tcp = await Deno.connect({ hostname, port });
    } catch (err) {
      return { kind: "unreachable", message: (err as Error).message };
    }
    try {
      tls = await Deno.startTls(tcp, {
        hostname: opts.servername ?? hostname,
        ...(opts.ca ? { caCerts: [opts.ca] } : {}),
      });
      tcp = undefined; // owned by tls now
      await tls.handshake();
      return { kind: "ok" };
    } catch (err) {
      const message = (err as Error).message;
      if (/UnknownIssuer|unknown ?ca|self[- ]signed/i.test(message)) {
        return { kind: "unknown_ca", message };
      }
      if (/not valid for name|NotValidForName/i.test(message)) return { kind: "bad_name", message };
      if (
        err instanceof Deno.errors.UnexpectedEof ||
        /InvalidContentType|corrupt message|unexpected end of file/i.test(message)
      ) {
        return { kind: "not_tls" };
      }
      return { kind: "other", message };
    }
  })();
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
    try {
      tls?.close();
    } catch { /* closed */ }
    try {
      tcp?.close();
    } catch { /* closed */ }
  }
}
