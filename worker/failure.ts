/**
 * The one place that decides what a failure means for the records in hand (see
 * `docs/failure.md`). Record-level problems are not errors: a record that is not UTF-8, not
 * JSON or not a valid event is decoded into a dead letter (`record_decoder.ts`). What is
 * thrown is one of these named errors, and `decide` says what follows:
 *
 * | error | means | action | exit code |
 * | --- | --- | --- | --- |
 * | `WriteError`, action `retry` | the warehouse or S3 is unavailable, a write conflicted or hung | `retry` | |
 * | `WriteError`, action `isolate` | the warehouse refuses some rows as they are | `isolate` | |
 * | `DeadLetterError` | the dead-letter topic did not acknowledge | `retry` | |
 * | `ConfigError` | a setting that does not parse: restarting cannot help | `stop` | 2 |
 * | `KafkaSetupError` | Kafka cannot be used as configured, or is not answering yet | `stop` | 1 |
 * | `TableSchemaError` | the table disagrees with the events in a way the worker will not fix | `stop` | 1 |
 * | anything else | a bug or an unknown client error | `retry`, bounded | 1 |
 *
 * `retry` keeps the batch, commits nothing and writes it again after a backoff delay;
 * `isolate` splits the batch until each refused row stands alone and dead-letters it (stage
 * `write`: `upsert_isolating.ts`, so it never reaches the committer); `stop` ends the process
 * with the exit code. A `KafkaSetupError` exits 1, not 2: it also means brokers that refuse
 * connections or give no first answer within `KAFKA_START_TIMEOUT_MS`, which a restart by
 * the supervisor can outlive. An unexpected error is retried at most
 * `UNEXPECTED_FAILURE_LIMIT` times in a row (no successful write between), then the process
 * exits 1: a crash loop an orchestrator can see beats a silent spin the watchdog cannot.
 *
 * The warehouse's half of the table (which SQLSTATE is `retry`, which `isolate`) is
 * `warehouse/write_error.ts`'s classifier.
 */
import { ConfigError } from "../shared/config.ts";
import { KafkaSetupError } from "../shared/kafka/kafka_error.ts";
import { DeadLetterError } from "./batch/dead_letter.ts";
import { TableSchemaError } from "./warehouse/evolve_table.ts";
import { type WriteAction, WriteError } from "./warehouse/write_error.ts";

/** What follows a failure. */
export type Action = WriteAction | "stop";

/** Which of the named failures it was, for logs and metrics. */
export type FailureKind =
  | "warehouse"
  | "rows_rejected"
  | "dead_letter_topic"
  | "configuration"
  | "table_schema"
  | "unexpected";

/** A failure's decision. */
export type Decision =
  | { action: "retry" | "isolate"; kind: FailureKind }
  | { action: "stop"; kind: FailureKind; exitCode: 1 | 2 };

/**
 * Unexpected failures in a row (no successful write between) after which the worker stops
 * with exit code 1. Enough to outlive a flake (a decoding thread that died once); few enough
 * that a batch a bug fails every time ends the process in seconds at the default backoff
 * (`WORKER_RETRY_MIN_MS`=250: at most 0.25 + 0.5 + 1 + 2 s of delays between the five
 * attempts) instead of retrying silently for ever: every retry counts as progress for the
 * watchdog, so nothing else would end it.
 */
export const UNEXPECTED_FAILURE_LIMIT = 5;

/** Decides what a thrown error means (see the table above). */
export function decide(err: unknown): Decision {
  if (err instanceof WriteError) {
    return err.action === "retry"
      ? { action: "retry", kind: "warehouse" }
      : { action: "isolate", kind: "rows_rejected" };
  }
  if (err instanceof DeadLetterError) return { action: "retry", kind: "dead_letter_topic" };
  if (err instanceof ConfigError) return { action: "stop", kind: "configuration", exitCode: 2 };
  if (err instanceof KafkaSetupError) {
    return { action: "stop", kind: "configuration", exitCode: 1 };
  }
  if (err instanceof TableSchemaError) return { action: "stop", kind: "table_schema", exitCode: 1 };
  return { action: "retry", kind: "unexpected" };
}
