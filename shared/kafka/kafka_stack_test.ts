/**
 * The Kafka layer against the stack's real broker: acknowledged sends, Java-compatible
 * partitions, a consumer group that delivers from the committed offsets, and setup errors that
 * name the setting.
 */
import assert from "node:assert/strict";
import { sharedStack, uniqueName } from "../../stack/harness.ts";
import { waitUntil } from "../../testing/wait.ts";
import { silentLogger } from "../logger.ts";
import { createKafkaAdmin } from "./admin.ts";
import { type ConsumedRecord, createConsumerGroup } from "./consumer_group.ts";
import { KafkaSetupError } from "./kafka_error.ts";
import { headerText } from "../record_headers.ts";
import { createKafkaProducer } from "./producer.ts";
import { kafkaConnection, type KafkaConnectionConfig } from "./settings.ts";

async function plainConnection(brokers: string, clientId = "kafka-test") {
  const config: KafkaConnectionConfig = { KAFKA_BROKERS: brokers.split(","), KAFKA_SSL: false };
  return await kafkaConnection(config, clientId);
}

// Partitions the Java client (and kafkajs's default partitioner) picks among 6, for these keys.
const JAVA_PARTITIONS: [string, number][] = [
  ["6a1f2c3d-4e5f-4a6b-8c7d-000000000001", 0],
  ["6a1f2c3d-4e5f-4a6b-8c7d-000000000002", 2],
  ["user-123", 2],
  ["a", 4],
  ["ünïcødé", 2],
  ["00000000-0000-4000-8000-000000000000", 5],
];

Deno.test("the Kafka layer sends acknowledged, keyed records to Java's partitions and a group resumes from its commits", async () => {
  const stack = await sharedStack();
  const connection = await plainConnection(stack.KAFKA_BROKERS);
  const topic = uniqueName("kafka_layer");
  const groupId = uniqueName("kafka_layer_group");
  const admin = createKafkaAdmin(connection);
  const producer = createKafkaProducer(connection, { logger: silentLogger });
  try {
    await admin.createTopics([{ topic, partitions: 6 }]);
    await producer.connect([topic]);
    const value = (i: number) => new TextEncoder().encode(JSON.stringify({ i }));
    await producer.send(
      topic,
      JAVA_PARTITIONS.map(([key], i) => ({ key, value: value(i), headers: { h: `v${i}` } })),
    );
    const more = Array.from({ length: 594 }, (_, i) => ({ key: `k${i}`, value: value(100 + i) }));
    for (let i = 0; i < more.length; i += 100) await producer.send(topic, more.slice(i, i + 100));
    const ends = await admin.endOffsets(topic);
    assert.equal(ends.reduce((a, b) => a + b, 0n), 600n, "every record is on the topic");

    const seen: ConsumedRecord[] = [];
    const group = createConsumerGroup(connection, { groupId, topics: [topic] });
    await group.start({ record: (r) => seen.push(r), error: (e) => assert.fail(e) });
    await waitUntil(() => seen.length >= 600, 30_000, "600 records");
    assert.equal(group.assignment().size, 6);
    const decoder = new TextDecoder();
    for (const [key, partition] of JAVA_PARTITIONS) {
      const record = seen.find((r) => r.key && decoder.decode(r.key) === key)!;
      assert.equal(record.partition, partition, `partition of ${key}`);
    }
    const first = seen.find((r) => r.key && decoder.decode(r.key) === JAVA_PARTITIONS[0]![0])!;
    assert.equal(headerText(first.headers, "h"), "v0");

    // Commit everything but the last record of partition 0; a new member starts there.
    const last = new Map<number, bigint>();
    for (const r of seen) last.set(r.partition, r.offset);
    await group.commit([...last].map(([partition, offset]) => ({
      topic,
      partition,
      offset: partition === 0 ? offset : offset + 1n,
    })));
    await group.close();
    const committed = await admin.committedOffsets(groupId, topic);
    assert.equal(committed.get(0), last.get(0));
    assert.equal(committed.get(1), last.get(1)! + 1n);

    const again: ConsumedRecord[] = [];
    const second = createConsumerGroup(connection, { groupId, topics: [topic] });
    await second.start({ record: (r) => again.push(r), error: (e) => assert.fail(e) });
    await waitUntil(() => again.length >= 1, 30_000, "the uncommitted record");
    await producer.send(topic, [{ key: "a", value: value(9999) }]);
    await waitUntil(() => again.length >= 2, 30_000, "the new record");
    assert.deepEqual(
      again.map((r) => [r.partition, r.offset]),
      [[0, last.get(0)!], [4, ends[4]!]],
      "only the uncommitted and the new record arrive",
    );
    await second.close();
  } finally {
    await producer.close();
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.close();
  }
});

Deno.test("connect() names a missing topic and an unreachable broker list", async () => {
  const stack = await sharedStack();
  const producer = createKafkaProducer(await plainConnection(stack.KAFKA_BROKERS), {
    logger: silentLogger,
  });
  try {
    await assert.rejects(
      producer.connect(["no_such_topic_here"]),
      (err) =>
        err instanceof KafkaSetupError &&
        err.message === "Topic no_such_topic_here does not exist (auto-creation is off)",
    );
  } finally {
    await producer.close();
  }

  const closed = createKafkaProducer(await plainConnection("127.0.0.1:9"), {
    logger: silentLogger,
    connectTimeoutMs: 1_000,
    retries: 0,
  });
  try {
    await assert.rejects(
      closed.connect(["user_created"]),
      (err) =>
        err instanceof KafkaSetupError &&
        /Cannot connect to KAFKA_BROKERS=127\.0\.0\.1:9/.test(err.message),
    );
    assert.match(closed.lastProblem() ?? "", /KAFKA_BROKERS/);
  } finally {
    await closed.close();
  }
});
