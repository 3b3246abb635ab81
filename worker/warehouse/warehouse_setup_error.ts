/**
 * Warehouse connection failures at start, in words that name the setting to fix.
 *
 * postgres.js reports a server that accepts the connection and never answers as
 * "write CONNECT_TIMEOUT undefined:undefined" (through `fixes/no_delay_socket.ts` it cannot see
 * the address) and a refused one as "connect ECONNREFUSED 127.0.0.1:5432": neither says that
 * `WAREHOUSE_URL` is what to check. `warehouseSetupError` says it, and for a timeout asks the
 * address whether it accepts a TCP connection at all.
 */
import { acceptsConnection, type ConnectionProbe } from "../../shared/accepts_connection.ts";

/**
 * postgres.js's `connect_timeout` for the worker's connections, in seconds: it covers the TCP
 * connection, TLS and the login, so a silent warehouse ends the start after this long.
 */
export const WAREHOUSE_CONNECT_TIMEOUT_S = 10;

/** The warehouse cannot be reached as configured. */
export class WarehouseSetupError extends Error {
  override name = "WarehouseSetupError";
}

/** Client error codes that mean "no connection", not "the statement failed". */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
]);

/**
 * A `WarehouseSetupError` naming `WAREHOUSE_URL` (with its host and port, never the password)
 * when `err` says no connection could be made or none answered in time; `err` itself otherwise.
 */
export async function warehouseSetupError(
  err: unknown,
  url: string,
  probe: (address: string) => Promise<ConnectionProbe> = acceptsConnection,
): Promise<unknown> {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return err;
  const parsed = new URL(url);
  const address = `${parsed.hostname}:${parsed.port || "5432"}`;
  if (code === "CONNECT_TIMEOUT") {
    const within = `within ${WAREHOUSE_CONNECT_TIMEOUT_S} s`;
    const message = (await probe(address)).accepted
      ? `The warehouse at ${address} accepted the connection but did not answer ${within}: ` +
        "check WAREHOUSE_URL (is it PostgreSQL or Redshift?)"
      : `The warehouse at ${address} did not accept a connection ${within}: ` +
        "check WAREHOUSE_URL (a wrong host, or a firewall that drops the packets?)";
    return new WarehouseSetupError(message, { cause: err });
  }
  if (UNREACHABLE.has(code)) {
    const reason = err instanceof Error ? err.message : String(err);
    return new WarehouseSetupError(
      `Cannot connect to the warehouse at ${address}: ${reason}: check WAREHOUSE_URL`,
      { cause: err },
    );
  }
  return err;
}
