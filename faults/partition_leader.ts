/**
 * Which broker leads a partition, for the scenarios that kill or restart that broker.
 *
 * `KafkaAdmin` (shared/kafka/admin.ts) has no leader query, and only the fault suite needs one,
 * so this asks the client's metadata itself with the same client options as every other client
 * of ours. It can go once `KafkaAdmin` answers which node leads a partition.
 */
import { Admin } from "@platformatic/kafka";
import { clientOptions } from "../shared/kafka/client_options.ts";
import type { KafkaConnection } from "../shared/kafka/settings.ts";

/**
 * The node id of the broker leading `topic`'s `partition` now (fresh metadata).
 * @throws {Error} when the partition has no leader or the metadata cannot be read.
 */
export async function partitionLeader(
  connection: KafkaConnection,
  topic: string,
  partition: number,
): Promise<number> {
  const admin = new Admin(clientOptions(connection, "-leader"));
  try {
    const meta = await admin.metadata({ topics: [topic], forceUpdate: true });
    const leader = meta.topics.get(topic)?.partitions[partition]?.leader;
    if (leader === undefined || leader < 0) {
      throw new Error(`Partition ${partition} of ${topic} has no leader`);
    }
    return leader;
  } finally {
    await admin.close();
  }
}

/**
 * The node id of the broker coordinating consumer group `groupId` now.
 * @throws {Error} when no coordinator is found.
 */
export async function groupCoordinator(
  connection: KafkaConnection,
  groupId: string,
): Promise<number> {
  const admin = new Admin(clientOptions(connection, "-coordinator"));
  try {
    const [found] = await admin.findCoordinator({ keyType: 0, keys: [groupId] });
    if (found === undefined || found.nodeId < 0) {
      throw new Error(`Group ${groupId} has no coordinator`);
    }
    return found.nodeId;
  } finally {
    await admin.close();
  }
}
