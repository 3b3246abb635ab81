/**
 * Integration-test helpers that talk to a real Kafka: a unique topic per test and a reader
 * that returns everything in a topic up to its current end.
 */
import type { Kafka } from "kafkajs";
import { createKafka } from "../shared/kafka.ts";
import { createLogger, type Logger, silentLogger } from "../shared/logger.ts";
import { createTopicsAndWait, uniqueName } from "../stack/harness.ts";

/** One record read back from Kafka. */
export interface ReadRecord {
  partition: number;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
}

/** A kafkajs client for tests (silent unless INGEST_TEST_LOGS is set). */
export function testKafka(brokers: string): Kafka {
  const logger: Logger = Deno.env.get("INGEST_TEST_LOGS")
    ? createLogger({ level: "debug" })
    : silentLogger;
  return createKafka({ brokers: brokers.split(","), clientId: "ingest-test" }, logger);
}

/** Creates a unique topic with 6 partitions; `delete()` removes it. */
export async function createTestTopic(
  kafka: Kafka,
  prefix: string,
): Promise<{ topic: string; delete(): Promise<void> }> {
  const topic = uniqueName(prefix);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsAndWait(admin, [{ topic, numPartitions: 6 }]);
  } finally {
    await admin.disconnect();
  }
  return {
    topic,
    async delete() {
      const a = kafka.admin();
      await a.connect();
      await a.deleteTopics({ topics: [topic] }).catch(() => {});
      await a.disconnect();
    },
  };
}

/** Reads every record of `topic` from the beginning up to its end as of now. */
export async function readTopic(kafka: Kafka, topic: string, ms = 30_000): Promise<ReadRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  const records: ReadRecord[] = [];
  if (pending.size === 0) return records;
  const consumer = kafka.consumer({ groupId: uniqueName("ingest_test_reader") });
  const done = Promise.withResolvers<void>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: false,
      eachBatch: ({ batch, resolveOffset }) => {
        const high = ends.get(batch.partition) ?? 0n;
        for (const m of batch.messages) {
          resolveOffset(m.offset);
          if (BigInt(m.offset) >= high) continue;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v);
          records.push({
            partition: batch.partition,
            key: m.key?.toString() ?? "",
            value: new Uint8Array(m.value ?? []),
            headers,
          });
          if (BigInt(m.offset) + 1n >= high) pending.delete(batch.partition);
        }
        if (pending.size === 0) done.resolve();
        return Promise.resolve();
      },
    });
    timer = setTimeout(
      () => done.reject(new Error(`Reading ${topic} did not finish within ${ms} ms`)),
      ms,
    );
    await done.promise;
    return records;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}
