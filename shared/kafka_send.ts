/**
 * Sending to Kafka with proof of acknowledgement for every message.
 *
 * kafkajs 2.2.4 can resolve `producer.send()` for messages that were never written (upstream
 * issue #1303, pull request #1798, unreleased): a send spanning several brokers keeps the
 * answers of the brokers that succeeded; when another broker answers NOT_LEADER, the retry maps
 * that broker's partitions to their new leaders but skips every broker that already answered.
 * A partition that moved to such a broker is never re-sent, and `send()` resolves anyway. Our
 * fault suite saw acknowledged webhook events missing from the topic after a leader kill.
 *
 * `sendAcknowledged` closes the gap: it chooses each message's partition itself (the same
 * murmur2 partitioner kafkajs uses by default, so keys land where they always did), checks that
 * every partition it sent to is in the returned metadata with error code 0, and sends the
 * messages of any missing partition again. Re-sending cannot lose anything; at worst a message
 * is written twice, which the warehouse's idempotent upsert makes harmless.
 *
 * @example
 * ```ts
 * const partitions = createPartitionCounter(admin);
 * await sendAcknowledged(producer, "user_created", messages, await partitions("user_created"));
 * ```
 */
import { type Admin, type Message, Partitioners, type Producer } from "kafkajs";

/** A send that still lacks acknowledgements after every round; retriable by the caller. */
export class UnacknowledgedSendError extends Error {
  override name = "UnacknowledgedSendError";
  /** Always true: nothing says these messages cannot be written later. */
  readonly retriable = true;
}

/** What `sendAcknowledged` needs of a kafkajs producer. */
export type SendingProducer = Pick<Producer, "send">;

/** Options for `sendAcknowledged`. */
export interface SendOptions {
  /** Rounds of sending before giving up (default 3). */
  rounds?: number;
  /** Called with the partitions that were missing from an answer (for logs and metrics). */
  onMissing?: (partitions: number[]) => void;
}

const partitioner = Partitioners.DefaultPartitioner();

/** The partition kafkajs's default partitioner picks for a key among `count` partitions. */
export function partitionFor(topic: string, key: Message["key"], count: number): number {
  const partitionMetadata = Array.from({ length: count }, (_, i) => ({
    partitionId: i,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [],
    isr: [],
  }));
  return partitioner({ topic, partitionMetadata, message: { key, value: null } });
}

/**
 * Sends `messages` to `topic` with acks=all and resolves only when Kafka acknowledged every
 * partition they went to.
 * @throws {UnacknowledgedSendError} when some partition is still unacknowledged after all rounds.
 * @throws whatever `producer.send` throws (nothing of a failed round counts as acknowledged).
 */
export async function sendAcknowledged(
  producer: SendingProducer,
  topic: string,
  messages: Message[],
  partitionCount: number,
  opts: SendOptions = {},
): Promise<void> {
  if (messages.length === 0) return;
  let pending = messages.map((m) =>
    m.partition === undefined || m.partition === null
      ? { ...m, partition: partitionFor(topic, m.key, partitionCount) }
      : m
  );
  const rounds = opts.rounds ?? 3;
  for (let round = 1; round <= rounds; round++) {
    const answers = await producer.send({ topic, acks: -1, messages: pending });
    const acknowledged = new Set(
      answers.filter((a) => a.topicName === topic && a.errorCode === 0).map((a) => a.partition),
    );
    const missing = pending.filter((m) => !acknowledged.has(m.partition!));
    if (missing.length === 0) return;
    opts.onMissing?.([...new Set(missing.map((m) => m.partition!))].sort((a, b) => a - b));
    pending = missing;
  }
  const partitions = [...new Set(pending.map((m) => m.partition))].join(", ");
  throw new UnacknowledgedSendError(
    `Kafka did not acknowledge ${pending.length} message(s) for ${topic} partition(s) ` +
      `${partitions} after ${rounds} rounds`,
  );
}

/**
 * A cached partition count per topic, from the cluster's metadata (refreshed after `maxAgeMs`,
 * default 60 s, so a topic that gains partitions is noticed).
 */
export function createPartitionCounter(
  admin: Pick<Admin, "fetchTopicMetadata">,
  maxAgeMs = 60_000,
): (topic: string) => Promise<number> {
  const cache = new Map<string, { count: number; at: number }>();
  return async (topic) => {
    const hit = cache.get(topic);
    if (hit && Date.now() - hit.at < maxAgeMs) return hit.count;
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = meta.topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new Error(`Topic ${topic} has no partitions (does it exist?)`);
    cache.set(topic, { count, at: Date.now() });
    return count;
  };
}
