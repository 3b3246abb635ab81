/**
 * Why messages could not be produced. Every produce failure is one the sender retries (the
 * ingest answers 503 with `Retry-After: retryAfterSeconds`), so the error carries no flag to
 * say so: `reason` says which limit or failure it was, `retryAfterSeconds` when to come back.
 * (The worker's failures, which can also be refused rows or a stop, are decided in one table:
 * `worker/failure.ts`.)
 */

/** What went wrong while producing. */
export type ProduceFailure =
  | "buffer_full"
  | "timeout"
  | "kafka_unavailable"
  | "shutting_down";

/** Messages that Kafka did not acknowledge; nothing of the request may be claimed accepted. */
export class ProduceError extends Error {
  override name = "ProduceError";
  /** Which failure this is. */
  readonly reason: ProduceFailure;
  /** Seconds after which a retry makes sense. */
  readonly retryAfterSeconds: number;

  constructor(
    reason: ProduceFailure,
    message: string,
    opts: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.reason = reason;
    this.retryAfterSeconds = opts.retryAfterSeconds ?? (reason === "buffer_full" ? 1 : 5);
  }
}
