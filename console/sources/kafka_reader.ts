/**
 * The console's `KafkaSource` on our Kafka layer: one admin client (offsets, committed offsets)
 * and one partition reader (records), both opened once and kept.
 */
import { createKafkaAdmin } from "../../shared/kafka/admin.ts";
import { explainKafkaError } from "../../shared/kafka/kafka_error.ts";
import { partitionForKey } from "../../shared/kafka/partition_for_key.ts";
import { createPartitionReader } from "../../shared/kafka/partition_reader.ts";
import type { KafkaConnection } from "../../shared/kafka/settings.ts";
import type { KafkaSource } from "./kafka_source.ts";

/**
 * Creates the source; it connects on first use. Short timeouts: a page waits on it. Errors say
 * what to fix when the chain tells (a broker list that does not answer, a SASL login refused).
 */
export function createKafkaReader(connection: KafkaConnection): KafkaSource {
  const tuning = { connectTimeoutMs: 3_000, requestTimeoutMs: 5_000, retries: 1 };
  const admin = createKafkaAdmin(connection, tuning);
  const reader = createPartitionReader(connection, tuning);
  const explained = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      const why = explainKafkaError(err, connection);
      throw why ? new Error(why, { cause: err }) : err;
    }
  };
  return {
    offsets: (topic) =>
      explained(async () => {
        const [start, end] = await Promise.all([
          admin.startOffsets(topic),
          admin.endOffsets(topic),
        ]);
        return { start, end };
      }),
    committed: (groupId, topic) => explained(() => admin.committedOffsets(groupId, topic)),
    read: (topic, partition, offset, limits) =>
      explained(() => reader.read(topic, partition, offset, limits)),
    partitionOf: (key, partitions) => partitionForKey(key, partitions),
    async close() {
      await Promise.allSettled([admin.close(), reader.close()]);
    },
  };
}
