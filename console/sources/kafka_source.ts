/**
 * What the console needs of Kafka, as a small interface: offsets, a group's committed offsets,
 * records from an offset, and the producer's partition of a key. `kafka_reader.ts` implements it
 * on our Kafka layer; tests use a fake.
 */
import type {
  PartitionReader,
  ReadLimits,
  ReadRecord,
} from "../../shared/kafka/partition_reader.ts";

export type { ReadLimits, ReadRecord };

/** The first and the next offset of each partition of a topic, by partition. */
export interface TopicOffsets {
  start: bigint[];
  end: bigint[];
}

/**
 * The console's view of Kafka; it never writes (re-drive has its own producer). `read` and
 * `close` are the partition reader's.
 */
export interface KafkaSource extends PartitionReader {
  /** @throws {Error} when the topic does not exist or Kafka cannot be reached. */
  offsets(topic: string): Promise<TopicOffsets>;
  /** The group's committed offset per partition (absent: none committed). */
  committed(groupId: string, topic: string): Promise<Map<number, bigint>>;
  /** The partition the producer puts `key` in, for a topic of `partitions` partitions. */
  partitionOf(key: string, partitions: number): number;
}
