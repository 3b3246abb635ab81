/** `sendAcknowledged` against a real broker: keys land where kafkajs itself would put them. */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createKafka } from "../shared/kafka.ts";
import { createPartitionCounter, partitionFor, sendAcknowledged } from "../shared/kafka_send.ts";
import { silentLogger } from "../shared/logger.ts";
import { createTopicsAndWait, sharedStack, uniqueName } from "../stack/harness.ts";

Deno.test("sendAcknowledged() writes every message to the partition kafkajs's partitioner picks", async () => {
  const env = await sharedStack();
  const kafka = createKafka(
    { brokers: env.KAFKA_BROKERS.split(","), clientId: "send" },
    silentLogger,
  );
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: uniqueName("send_reader") });
  const plain = uniqueName("send_plain");
  const ours = uniqueName("send_ours");
  await admin.connect();
  try {
    await createTopicsAndWait(admin, [{ topic: plain, numPartitions: 6 }, {
      topic: ours,
      numPartitions: 6,
    }]);
    await producer.connect();
    const keys = Array.from({ length: 60 }, () => crypto.randomUUID());
    const messages = () => keys.map((k) => ({ key: Buffer.from(k), value: k }));
    // kafkajs choosing the partition itself, and sendAcknowledged choosing it explicitly.
    await producer.send({ topic: plain, acks: -1, messages: messages() });
    const count = createPartitionCounter(admin);
    await sendAcknowledged(producer, ours, messages(), await count(ours));

    const seen = new Map<string, number>();
    const done = Promise.withResolvers<void>();
    await consumer.connect();
    await consumer.subscribe({ topics: [plain, ours], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        seen.set(`${topic}/${message.key}`, partition);
        if (seen.size === keys.length * 2) done.resolve();
        return Promise.resolve();
      },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      done.promise,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`read ${seen.size} of ${keys.length * 2}`)),
          30_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    for (const k of keys) {
      const expected = partitionFor(ours, Buffer.from(k), 6);
      assert.equal(seen.get(`${plain}/${k}`), expected, `kafkajs put ${k} where partitionFor says`);
      assert.equal(seen.get(`${ours}/${k}`), expected, `sendAcknowledged put ${k} there too`);
    }
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [plain, ours] }).catch(() => {});
    await admin.disconnect();
  }
});
