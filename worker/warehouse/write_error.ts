/**
 * The SQLSTATE classifier `failure.ts` reads: what a warehouse error means for the rows being
 * written, in the failure table's own words (`retry` or `isolate`, see `docs/failure.md`).
 *
 * - `isolate`: the warehouse refuses these rows as they are (a value it cannot store, a
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
 *
 * It also knows the codes of a `CREATE … IF NOT EXISTS` raced by another session at start
 * (`isCreateRace`), which the sink runs again instead of failing.
 */

/** What a failed write calls for: the write half of `failure.ts`'s `Action`. */
export type WriteAction = "retry" | "isolate";

/** A failed warehouse write, with the action it calls for. */
export class WriteError extends Error {
  override name = "WriteError";
  /** `retry`: the same write may succeed later; `isolate`: some rows are refused as they are. */
  readonly action: WriteAction;
  /** The SQLSTATE or client error code, when known. */
  readonly code: string | undefined;

  constructor(
    message: string,
    action: WriteAction,
    code: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.action = action;
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

/** Decides `retry` or `isolate` for an error thrown by the warehouse client. */
export function classifyWriteError(err: unknown): WriteAction {
  const code = errorCode(err);
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code) && isRowRejection(code)) return "isolate";
  if (code === "XX000" && REDSHIFT_LOAD_ERROR.test(messageOf(err))) {
    return "isolate";
  }
  return "retry";
}

/**
 * What a `CREATE … IF NOT EXISTS` raced by another session fails with: PostgreSQL's
 * `IF NOT EXISTS` is not atomic between sessions, and the slower one fails on a catalog's
 * unique index (23505) or finds the table, its row type or the schema made meanwhile (42P07,
 * 42710, 42P06).
 */
const CREATE_RACE = new Set(["23505", "42P07", "42710", "42P06"]);

/** True when `err` is a DDL statement losing a creation race (run it again: it will pass). */
export function isCreateRace(err: unknown): boolean {
  return CREATE_RACE.has(errorCode(err) ?? "");
}

/** Wraps a client error in a `WriteError` carrying its action. */
export function toWriteError(err: unknown): WriteError {
  if (err instanceof WriteError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new WriteError(message, classifyWriteError(err), errorCode(err), { cause: err });
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
