/**
 * What `/readyz` says after a failed write, until one succeeds: which write failed (warehouse
 * or dead-letter topic) and why, from the error's class and code only. Messages are left out:
 * a database message may quote a value of the rows, and a client's may name a host or user;
 * the log line of the failure has the full (redacted) error.
 */
import { DeadLetterError } from "./batch/dead_letter.ts";
import { WRITE_TIMEOUT } from "./warehouse/write_deadline.ts";
import { WriteError } from "./warehouse/write_error.ts";

/** A SQLSTATE: five digits or capital letters, with a digit (`EPIPE` is a client's code). */
const SQLSTATE = /^(?=.*[0-9])[0-9A-Z]{5}$/;
/** A client's error code worth naming (`ECONNREFUSED`, `CONNECT_TIMEOUT`, `AccessDenied`). */
const CLIENT_CODE = /^[A-Za-z][\w.-]{0,63}$/;

/**
 * Why the last write failed, for `/readyz`: `the last warehouse write failed: did not finish
 * within 30000 ms (WAREHOUSE_WRITE_TIMEOUT_MS)`, `… failed: PostgresError, SQLSTATE 55P03`.
 * `writeTimeoutMs` is the deadline the worker runs with.
 */
export function writeProblem(err: unknown, writeTimeoutMs: number): string {
  if (err instanceof DeadLetterError) {
    return `the last dead-letter write failed: the dead-letter topic did not acknowledge (${
      describe(err.cause)
    })`;
  }
  if (err instanceof WriteError) {
    if (err.code === WRITE_TIMEOUT) {
      return `the last warehouse write failed: did not finish within ${writeTimeoutMs} ms ` +
        "(WAREHOUSE_WRITE_TIMEOUT_MS)";
    }
    return `the last warehouse write failed: ${describe(err.cause ?? err, err.code)}`;
  }
  return `the last write failed: unexpected ${describe(err)}`;
}

/** The class of `err` and its code, when it has one worth naming. */
function describe(err: unknown, code: unknown = codeOf(err)): string {
  const name = err instanceof Error ? err.name : "error";
  if (typeof code !== "string") return name;
  if (SQLSTATE.test(code)) return `${name}, SQLSTATE ${code}`;
  if (CLIENT_CODE.test(code)) return `${name}, code ${code}`;
  return name;
}

function codeOf(err: unknown): unknown {
  return typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
}
