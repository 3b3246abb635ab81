/**
 * The test kit's isolated pipeline for the worker's integration tests: a unique topic and
 * dead-letter topic, schema and group on the shared stack, the worker's environment for them,
 * and the two things a test polls (rows in the table, commits at the end of the topic).
 *
 * @example
 * ```ts
 * import { sharedStack } from "../stack/harness.ts";
 * import type { UserEvent } from "../shared/event.ts";
 * import { startProgram } from "./program.ts";
 * import { toMessage } from "./users.ts";
 * import { waitUntil } from "./wait.ts";
 * declare const events: UserEvent[];
 *
 * const p = await setupPipeline(await sharedStack(), "w_order", 2);
 * try {
 *   await p.kafka.produce(p.topic, events.map(toMessage));
 *   const worker = await startProgram("worker", p.workerEnv);
 *   await waitUntil(() => p.caughtUp(), 60_000, "the batch to be committed");
 *   await worker.stop();
 * } finally {
 *   await p.close();
 * }
 * ```
 */
import postgres from "postgres";
import { uniqueName } from "../stack/harness.ts";
import { type TestKafka, testKafka } from "./kafka.ts";

/** Everything an integration test needs for one isolated pipeline. */
export interface Pipeline {
  kafka: TestKafka;
  admin: TestKafka["admin"];
  sql: postgres.Sql;
  topic: string;
  dlq: string;
  schema: string;
  groupId: string;
  /** The worker's environment for this pipeline. */
  workerEnv: Record<string, string>;
  /** Rows in the pipeline's table (0 while it does not exist). */
  count(): Promise<number>;
  /** True when the group committed every partition of the topic to its end. */
  caughtUp(): Promise<boolean>;
  /** Deletes topics and schema, closes clients. */
  close(): Promise<void>;
}

/** Creates a unique topic pair (`partitions` each), schema and group on `stack`. */
export async function setupPipeline(
  stack: { KAFKA_BROKERS: string; WAREHOUSE_URL: string },
  prefix: string,
  partitions = 3,
): Promise<Pipeline> {
  const kafka = testKafka(stack.KAFKA_BROKERS);
  const topic = uniqueName(prefix);
  const dlq = `${topic}.dlq`;
  const schema = uniqueName(prefix);
  const groupId = `${topic}_group`;
  const sql = postgres(stack.WAREHOUSE_URL, { max: 2, onnotice: () => {} });
  await kafka.createTopics([topic, dlq], partitions);
  return {
    kafka,
    admin: kafka.admin,
    sql,
    topic,
    dlq,
    schema,
    groupId,
    workerEnv: {
      KAFKA_BROKERS: stack.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: dlq,
      KAFKA_GROUP_ID: groupId,
      WAREHOUSE_URL: stack.WAREHOUSE_URL,
      WAREHOUSE_SCHEMA: schema,
    },
    async count() {
      try {
        const [r] = await sql.unsafe(`select count(*)::int as n from ${schema}.users`);
        return Number(r!.n);
      } catch (err) {
        if ((err as { code?: string }).code === "42P01") return 0; // not created yet
        throw err;
      }
    },
    caughtUp: () => kafka.committedUpTo(groupId, topic),
    async close() {
      await kafka.deleteTopics([topic, dlq]);
      await kafka.close().catch(() => {});
      await sql.unsafe(`drop schema if exists ${schema} cascade`).catch(() => {});
      await sql.end();
    },
  };
}
