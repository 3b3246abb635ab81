/** The environments the fault suite and the soak give the ingest and the workers. */
import { TEST_SECRET } from "../testing/webhook.ts";
import type { StackEnv } from "../stack/stack.ts";

/** Names of one isolated pipeline on a stack. */
export interface PipelineNames {
  topic: string;
  dlq: string;
  groupId: string;
  schema: string;
}

/** The ingest's environment: loopback, signed webhook, pull only on demand. */
export function ingestEnv(
  stack: StackEnv,
  names: PipelineNames,
  randomUserUrl: string,
): Record<string, string> {
  return {
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    KAFKA_TOPIC: names.topic,
    INGEST_HOST: "127.0.0.1",
    INGEST_PORT: "0",
    WEBHOOK_SECRET: TEST_SECRET,
    PULL_ENABLED: "false",
    RANDOMUSER_URL: randomUserUrl,
    PULL_TIMEOUT_MS: "1000",
    PULL_RETRIES: "4",
    PULL_BACKOFF_MS: "50",
    LOG_LEVEL: "info",
  };
}

/** A worker's environment; all workers of a pipeline share the group. */
export function workerEnv(
  stack: StackEnv,
  names: PipelineNames,
  sessionTimeoutMs: number,
): Record<string, string> {
  return {
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    KAFKA_TOPIC: names.topic,
    KAFKA_DLQ_TOPIC: names.dlq,
    KAFKA_GROUP_ID: names.groupId,
    WAREHOUSE_URL: stack.WAREHOUSE_URL,
    WAREHOUSE_SCHEMA: names.schema,
    WORKER_PORT: "0",
    WORKER_HOSTNAME: "127.0.0.1",
    WORKER_SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
    WORKER_RETRY_MAX_MS: "2000",
    // Below the default 30 s, so that a blackholed write ends inside the scenario's fault and
    // /readyz reports it (from half the deadline).
    WAREHOUSE_WRITE_TIMEOUT_MS: "10000",
    LOG_LEVEL: "info",
  };
}
