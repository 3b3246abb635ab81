/**
 * Why a program could not listen, in one line that names the variable to change: a taken port
 * (`AddrInUse`), an address this machine does not have, a privileged port, a host name that
 * does not resolve. Without it the runtime's error ends the program as an uncaught stack trace.
 *
 * @example
 * ```ts
 * import { listenFailure } from "./listen_failure.ts";
 * try {
 *   Deno.serve({ hostname: "0.0.0.0", port: 8080 }, () => new Response());
 * } catch (err) {
 *   const message = listenFailure(err, { host: "INGEST_HOST", port: "INGEST_PORT" }, {
 *     hostname: "0.0.0.0",
 *     port: 8080,
 *   });
 *   if (message === undefined) throw err;
 * }
 * ```
 */

/** The variables that set the listen address, for the message. */
export interface ListenVariables {
  host: string;
  port: string;
}

/**
 * The one-line reason `err` (thrown by `Deno.listen` or `Deno.serve`) gives, naming the
 * variable to change; `undefined` for an error that is not about the address.
 */
export function listenFailure(
  err: unknown,
  variables: ListenVariables,
  address: { hostname: string; port: number },
): string | undefined {
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  const where = `Cannot listen on ${host}:${address.port}`;
  const { host: hostVariable, port: portVariable } = variables;
  if (err instanceof Deno.errors.AddrInUse) {
    return `${where}: the port is taken by another process; ` +
      `set ${portVariable} to a free port (0 picks one)`;
  }
  if (err instanceof Deno.errors.AddrNotAvailable) {
    return `${where}: this machine has no such address; ` +
      `set ${hostVariable} to one of its addresses (0.0.0.0: all of them)`;
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    const reason = (err as Error).message;
    return `${where}: ${reason}; set ${portVariable} to 1024 or above (or 0)`;
  }
  if (err instanceof Error && /lookup address|invalid host/i.test(err.message)) {
    return `${where}: ${hostVariable} does not resolve to an address of this machine ` +
      `(${err.message})`;
  }
  return undefined;
}
