/**
 * The `topic:partition` key of a partition, in a module that loads no Kafka client, so that the
 * pure stages (`worker/batch/`) can key partitions the way `consumer_group.ts` does.
 */

/** The `topic:partition` key of a partition. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}
