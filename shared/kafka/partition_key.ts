/**
 * The `topic:partition` key of a partition, in a module that loads no Kafka client, so that the
 * pure stages (`worker/batch/`) can key partitions the way `consumer_group.ts` does. Every key
 * is built by `partitionKey` and split by `parsePartitionKey`, nowhere else.
 *
 * @example
 * ```ts
 * const key = partitionKey("user_created", 2); // "user_created:2"
 * parsePartitionKey(key); // { topic: "user_created", partition: 2 }
 * ```
 */

/** The `topic:partition` key of a partition. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/**
 * The topic and partition of a key made by `partitionKey` (a topic name has no `:`, but the
 * last one is taken all the same).
 */
export function parsePartitionKey(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf(":");
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}
