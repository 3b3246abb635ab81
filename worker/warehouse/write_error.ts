/**
 * The one place that decides what a warehouse error means for the records being written.
 *
 * - `reject`: the warehouse refuses these rows as they are (a value it cannot store, a
 *   constraint). Retrying cannot help; the batch is split to find the rows, which are
 *   dead-lettered with stage `write`. Redshift's COPY from S3 reports any bad field as
 *   "Load into table '…' failed" (SQLSTATE XX000, details only in `sys_load_error_detail`):
 *   that is a rejection too, and the halves below `WAREHOUSE_S3_MIN_ROWS` are staged by
 *   INSERT, which names the row and the reason (or stores it, if only the CSV path failed).
 * - `retry`: anything else: connection lost, timeouts, serialization failures (PostgreSQL
 *   40001, Redshift error 1023), the database shutting down, a concurrent insert of the same
 *   key (23505, only possible while two workers overlap during a rebalance), and unknown
 *   errors, and every S3 error (access denied, throttling, a missing bucket): none of those is
 *   about the rows. An outage is never a reason to dead-letter: the worker backs off and
 *   retries.
 */

/** What to do about a failed write. */
export type WriteVerdict = "retry" | "reject";

/** A failed warehouse write, with its verdict. */
export class WriteError extends Error {
  override name = "WriteError";
  /** True when the same write may succeed later. */
  readonly retriable: boolean;
  /** The SQLSTATE or client error code, when known. */
  readonly code: string | undefined;

  constructor(
    message: string,
    retriable: boolean,
    code: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.retriable = retriable;
    this.code = code;
  }
}

/**
 * SQLSTATE classes and codes that mean "these rows can never be stored as they are":
 * 22 (data exception: value too long, bad date, out of range) and 23 (integrity constraint),
 * except 23505, see above.
 */
function isRowRejection(code: string): boolean {
  if (code === "23505") return false;
  return code.startsWith("22") || code.startsWith("23");
}

/** Redshift's message when COPY refuses a field of its input. */
const REDSHIFT_LOAD_ERROR = /^Load into table '[^']*' failed\./;

/** Decides retry or reject for an error thrown by the warehouse client. */
export function classifyWriteError(err: unknown): WriteVerdict {
  const code = errorCode(err);
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code) && isRowRejection(code)) return "reject";
  if (code === "XX000" && REDSHIFT_LOAD_ERROR.test(messageOf(err))) {
    return "reject";
  }
  return "retry";
}

/** Wraps a client error in a `WriteError` carrying its verdict. */
export function toWriteError(err: unknown): WriteError {
  if (err instanceof WriteError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new WriteError(message, classifyWriteError(err) === "retry", errorCode(err), {
    cause: err,
  });
}

function messageOf(err: unknown): string {
  if (typeof err === "object" && err !== null && "message" in err) {
    const message = (err as { message: unknown }).message;
    if (typeof message === "string") return message;
  }
  return "";
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}
