/**
 * What the ingest and the worker share.
 *
 * Glossary:
 * - **event**: one `user_created` message: an envelope (event id, source, time accepted,
 *   schema version) around one user, keyed by the user's id so that every change to a user
 *   lands in one partition, in order.
 * - **batch**: the records the worker's one committer takes from every assigned partition and
 *   writes as one warehouse transaction, before it commits their offsets.
 * - **sink**: where valid events end up: the warehouse table `users`, written by upsert.
 * - **dialect**: the SQL that differs between PostgreSQL (local, tests) and Amazon Redshift.
 * - **dead letter**: a record that will never succeed as it is; it goes to `user_created.dlq`
 *   with its original bytes and the reason, so nothing is dropped silently.
 * - **trace**: with `OTEL_DENO=true`, the spans of one event's way: the ingest's request span
 *   (whose context the record carries in `traceparent`), and the worker's flush span, linked
 *   to it. Core logic takes the `Tracing` port of `tracing.ts`.
 *
 * @module
 */
export * from "./config.ts";
export * from "./event.ts";
export * from "./kafka/admin.ts";
export * from "./kafka/consumer_group.ts";
export * from "./kafka/kafka_error.ts";
export * from "./kafka/producer.ts";
export * from "./kafka/settings.ts";
export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./permissions.ts";
export * from "./tracing.ts";
