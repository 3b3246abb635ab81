/**
 * The ingest tests' view of the test kit's Kafka part (testing/kafka.ts): a unique topic per
 * test and a reader that returns everything in a topic up to its current end.
 */
import { type TestKafka, testKafka, type TopicRecord } from "../testing/kafka.ts";

export { testKafka };
/** One record read back from Kafka. */
export type ReadRecord = TopicRecord;

/** Creates a unique topic with 6 partitions; `delete()` removes it. */
export async function createTestTopic(
  kafka: TestKafka,
  prefix: string,
): Promise<{ topic: string; delete(): Promise<void> }> {
  const topic = await kafka.createTopic(prefix, 6);
  return {
    topic,
    delete: () => kafka.admin.deleteTopics([topic]).catch(() => {}),
  };
}

/** Reads every record of `topic` from the beginning up to its end as of now. */
export function readTopic(kafka: TestKafka, topic: string, ms = 30_000): Promise<ReadRecord[]> {
  return kafka.readTopic(topic, { timeoutMs: ms });
}
