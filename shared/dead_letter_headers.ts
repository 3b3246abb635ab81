/**
 * The headers a dead letter carries: Kafka Connect's names where one fits
 * (`__connect.errors.*`), so existing tooling reads them, plus our own. The worker writes them
 * (`worker/batch/dead_letter.ts`); the re-drive and the console read them.
 */

/** Kafka Connect's error header names, and ours. */
export const DLQ_HEADERS = {
  topic: "__connect.errors.topic",
  partition: "__connect.errors.partition",
  offset: "__connect.errors.offset",
  stage: "__connect.errors.stage",
  className: "__connect.errors.exception.class.name",
  message: "__connect.errors.exception.message",
  /** Comma-separated zod issue paths, e.g. `user.email,user.id`. */
  issuePaths: "user_pipeline.errors.issue_paths",
  /** The zod issues as a JSON array of `{ path, message }`. */
  issues: "user_pipeline.errors.issues",
  /** When the record was dead-lettered (ISO-8601). */
  time: "user_pipeline.errors.time",
} as const;

/** True for the headers `toDeadLetter` adds (a re-drive removes them). */
export function isErrorHeader(name: string): boolean {
  return name.startsWith("__connect.errors.") || name.startsWith("user_pipeline.errors.");
}
