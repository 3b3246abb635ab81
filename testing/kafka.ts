/**
 * The test kit's Kafka part: one client for tests on the real broker of the local stack, with
 * a topic creator, an acknowledged producer, a topic reader and the group's committed offsets.
 * Every call opens and closes its own connections, so a test leaks nothing if it never calls
 * `close()` (Deno's resource sanitizers stay on).
 *
 * @example
 * ```ts
 * import { sharedStack } from "../stack/harness.ts";
 * const stack = await sharedStack();
 *
 * const kafka = testKafka(stack.KAFKA_BROKERS);
 * const topic = await kafka.createTopic("ingest_it");
 * const records = await kafka.readTopic(topic); // everything up to the end as of now
 * await kafka.deleteTopics([topic]);
 * ```
 */
import { silentLogger } from "../shared/logger.ts";
import { createKafkaAdmin, type KafkaAdmin } from "../shared/kafka/admin.ts";
import { createConsumerGroup } from "../shared/kafka/consumer_group.ts";
import { createKafkaProducer, type ProducerMessage } from "../shared/kafka/producer.ts";
import type { KafkaConnection } from "../shared/kafka/settings.ts";
import { uniqueName } from "../stack/harness.ts";

/** One record read back from a topic. */
export interface TopicRecord {
  partition: number;
  offset: bigint;
  /** The key as text ("" when there is none). */
  key: string;
  keyBytes: Uint8Array | null;
  value: Uint8Array | null;
  /** Header values as text by name (a repeated name: its last value). */
  headers: Record<string, string>;
  /** Every header as text, in record order (repeated names with each value). */
  headerList: [string, string][];
}

/** A Kafka client for tests. */
export interface TestKafka {
  connection: KafkaConnection;
  admin: KafkaAdmin;
  /** Creates topics (`partitions` each, default 6) and waits for their leaders. */
  createTopics(topics: readonly string[], partitions?: number): Promise<void>;
  /** Creates a topic with a unique name from `prefix`; returns the name. */
  createTopic(prefix: string, partitions?: number): Promise<string>;
  /** Deletes topics, best effort: a clean-up never fails a test. */
  deleteTopics(topics: readonly string[]): Promise<void>;
  /** Sends in chunks of 1,000, each acknowledged by every replica (acks=all). */
  produce(topic: string, messages: readonly ProducerMessage[]): Promise<void>;
  /**
   * Reads `topic` from the start up to its end as of the call (or, with `expected`, until that
   * many records arrived), through a throw-away consumer group.
   */
  readTopic(
    topic: string,
    opts?: { expected?: number; timeoutMs?: number },
  ): Promise<TopicRecord[]>;
  /** The topics of the cluster, sorted (internal ones left out). */
  listTopicsSorted(): Promise<string[]>;
  /** True when `groupId` has committed every partition of `topic` up to its end. */
  committedUpTo(groupId: string, topic: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Connection settings for the stack's plaintext listener. */
export function plainConnection(brokers: string, clientId = "test"): KafkaConnection {
  return { clientId, brokers: brokers.split(","), summary: `KAFKA_BROKERS=${brokers}` };
}

/** An admin whose every call uses a fresh client, closed before the call returns. */
function oneShotAdmin(connection: KafkaConnection): KafkaAdmin {
  return new Proxy({} as KafkaAdmin, {
    get: (_t, name) => async (...args: unknown[]) => {
      if (name === "close") return;
      const admin = createKafkaAdmin(connection);
      try {
        // deno-lint-ignore no-explicit-any
        return await (admin as any)[name](...args);
      } finally {
        await admin.close();
      }
    },
  });
}

/** A test client for `brokers` (comma-separated), or for a full connection (TLS, SASL). */
export function testKafka(brokers: string | KafkaConnection): TestKafka {
  const connection = typeof brokers === "string" ? plainConnection(brokers) : brokers;
  const admin = oneShotAdmin(connection);
  const decoder = new TextDecoder();

  const kit: TestKafka = {
    connection,
    admin,
    async createTopics(topics, partitions = 6) {
      await admin.createTopics(topics.map((topic) => ({ topic, partitions })));
    },
    async createTopic(prefix, partitions = 6) {
      const topic = uniqueName(prefix);
      await kit.createTopics([topic], partitions);
      return topic;
    },
    async deleteTopics(topics) {
      await admin.deleteTopics([...topics]).catch(() => {});
    },
    async produce(topic, messages) {
      const producer = createKafkaProducer(connection, {
        logger: silentLogger,
        clientIdSuffix: "-test",
      });
      try {
        for (let i = 0; i < messages.length; i += 1_000) {
          await producer.send(topic, messages.slice(i, i + 1_000));
        }
      } finally {
        await producer.close();
      }
    },
    async readTopic(topic, opts = {}) {
      const ends = await admin.endOffsets(topic);
      const remaining = new Set(ends.flatMap((end, p) => (end > 0n ? [p] : [])));
      const out: TopicRecord[] = [];
      const enough = () =>
        opts.expected === undefined ? remaining.size === 0 : out.length >= opts.expected;
      if (enough()) return out;
      const group = createConsumerGroup(connection, {
        groupId: uniqueName("test_reader"),
        topics: [topic],
        sessionTimeoutMs: 10_000,
      });
      const done = Promise.withResolvers<void>();
      const ms = opts.timeoutMs ?? 30_000;
      const timer = setTimeout(
        () => done.reject(new Error(`Reading ${topic} did not finish within ${ms} ms`)),
        ms,
      );
      try {
        await group.start({
          record(r) {
            const end = ends[r.partition] ?? 0n;
            if (opts.expected === undefined && r.offset >= end) return;
            const headerList = r.headers.map(([k, v]): [string, string] => [k, decoder.decode(v)]);
            out.push({
              partition: r.partition,
              offset: r.offset,
              key: r.key ? decoder.decode(r.key) : "",
              // Plain Uint8Arrays (the client gives Buffers), so deepEqual with test data works.
              keyBytes: r.key && new Uint8Array(r.key),
              value: r.value && new Uint8Array(r.value),
              headers: Object.fromEntries(headerList),
              headerList,
            });
            if (r.offset + 1n >= end) remaining.delete(r.partition);
            if (enough()) done.resolve();
          },
          error: (err) => done.reject(err),
        });
        await done.promise;
        return out;
      } finally {
        clearTimeout(timer);
        await group.close();
      }
    },
    async listTopicsSorted() {
      return (await admin.listTopics()).toSorted();
    },
    async committedUpTo(groupId, topic) {
      const [ends, committed] = await Promise.all([
        admin.endOffsets(topic),
        admin.committedOffsets(groupId, topic),
      ]);
      return ends.every((end, p) => end === 0n || committed.get(p) === end);
    },
    async close() {
      // Nothing stays open between calls.
    },
  };
  return kit;
}
