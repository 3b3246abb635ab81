/**
 * The one place that decides what a failure means for the records in hand (see
 * `docs/failure.md`). Record-level problems are not errors: a record that is not UTF-8, not
 * JSON or not a valid event is decoded into a dead letter (`record_decoder.ts`). What is
 * thrown is one of these named errors, and `decide` says what follows:
 *
 * | error | means | decision |
 * | --- | --- | --- |
 * | `WriteError`, retriable | the warehouse or S3 is unavailable, a write conflicted or hung | `retry` |
 * | `WriteError`, not retriable | the warehouse refuses some rows as they are | `isolate` |
 * | `DeadLetterError` | the dead-letter topic did not acknowledge | `retry` |
 * | `ConfigError`, `KafkaSetupError` | the process cannot run as configured | `stop` |
 * | anything else | a bug or an unknown client error | `retry`, logged as an error |
 *
 * `retry` keeps the batch, commits nothing and writes it again after a backoff delay;
 * `isolate` splits the batch until each refused row stands alone and dead-letters it (stage
 * `write`); `stop` ends the process (exit code 2 for configuration, 1 otherwise).
 */
import { ConfigError } from "../shared/config.ts";
import { KafkaSetupError } from "../shared/kafka/kafka_error.ts";
import { DeadLetterError } from "./batch/dead_letter.ts";
import { WriteError } from "./warehouse/write_error.ts";

/** What follows a failure. */
export type Action = "retry" | "isolate" | "stop";

/** Which of the named failures it was, for logs and metrics. */
export type FailureKind =
  | "warehouse"
  | "rows_rejected"
  | "dead_letter_topic"
  | "configuration"
  | "unexpected";

/** A failure's decision. */
export interface Decision {
  action: Action;
  kind: FailureKind;
}

/** Decides what a thrown error means (see the table above). */
export function decide(err: unknown): Decision {
  if (err instanceof WriteError) {
    return err.retriable
      ? { action: "retry", kind: "warehouse" }
      : { action: "isolate", kind: "rows_rejected" };
  }
  if (err instanceof DeadLetterError) return { action: "retry", kind: "dead_letter_topic" };
  if (err instanceof ConfigError || err instanceof KafkaSetupError) {
    return { action: "stop", kind: "configuration" };
  }
  return { action: "retry", kind: "unexpected" };
}
