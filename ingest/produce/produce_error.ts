/**
 * Why messages could not be produced. Every produce failure is retriable by the sender (the
 * ingest answers 503 with `Retry-After`); `reason` says which limit or failure it was.
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
  /** Whether the same request may succeed later (always true today; kept explicit). */
  readonly retriable = true;
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
