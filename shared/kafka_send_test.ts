import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Message, ProducerRecord, RecordMetadata } from "kafkajs";
import { createPartitionCounter, sendAcknowledged, UnacknowledgedSendError } from "./kafka_send.ts";

/** A producer that answers for the partitions it is told to, like kafkajs 2.2.4 after a leader change. */
function fakeProducer(answer: (round: number, partitions: number[]) => number[]) {
  const sent: Message[][] = [];
  return {
    sent,
    send(record: ProducerRecord): Promise<RecordMetadata[]> {
      sent.push(record.messages);
      const partitions = [...new Set(record.messages.map((m) => m.partition!))];
      return Promise.resolve(
        answer(sent.length, partitions).map((partition) => ({
          topicName: record.topic,
          partition,
          errorCode: 0,
        })),
      );
    },
  };
}

const messages = (n: number): Message[] =>
  Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`user-${i}`), value: `v${i}` }));

Deno.test("sendAcknowledged() sends once when every partition is acknowledged", async () => {
  const producer = fakeProducer((_, partitions) => partitions);
  await sendAcknowledged(producer, "t", messages(50), 6);
  assert.equal(producer.sent.length, 1);
  assert.equal(producer.sent[0]!.length, 50);
  assert.ok(producer.sent[0]!.every((m) => typeof m.partition === "number"), "explicit partitions");
});

Deno.test("sendAcknowledged() re-sends exactly the messages of a partition missing from the answer", async () => {
  const missingOnce: number[] = [];
  // Round 1: kafkajs "forgets" the lowest partition (moved to a broker that had answered).
  const producer = fakeProducer((round, partitions) =>
    round === 1 ? partitions.filter((p) => p !== Math.min(...partitions)) : partitions
  );
  const all = messages(60);
  await sendAcknowledged(producer, "t", all, 6, { onMissing: (p) => missingOnce.push(...p) });
  assert.equal(producer.sent.length, 2);
  const lost = Math.min(...producer.sent[0]!.map((m) => m.partition!));
  assert.deepEqual(missingOnce, [lost]);
  assert.deepEqual(
    producer.sent[1]!.map((m) => String(m.value)),
    producer.sent[0]!.filter((m) => m.partition === lost).map((m) => String(m.value)),
  );
});

Deno.test("sendAcknowledged() gives up with a retriable error after its rounds", async () => {
  const producer = fakeProducer(() => []);
  await assert.rejects(
    () => sendAcknowledged(producer, "t", messages(3), 6, { rounds: 2 }),
    (err: unknown) => {
      assert.ok(err instanceof UnacknowledgedSendError);
      assert.equal(err.retriable, true);
      assert.match(
        err.message,
        /did not acknowledge 3 message\(s\) for t partition\(s\) .* 2 rounds/,
      );
      return true;
    },
  );
  assert.equal(producer.sent.length, 2);
});

Deno.test("sendAcknowledged() does not count an answer with an error code", async () => {
  let round = 0;
  const producer = {
    send(record: ProducerRecord): Promise<RecordMetadata[]> {
      round++;
      const partitions = [...new Set(record.messages.map((m) => m.partition!))];
      return Promise.resolve(partitions.map((partition) => ({
        topicName: record.topic,
        partition,
        errorCode: round === 1 ? 6 : 0,
      })));
    },
  };
  await sendAcknowledged(producer, "t", messages(5), 6);
  assert.equal(round, 2);
});

Deno.test("createPartitionCounter() caches the count and refuses a topic without partitions", async () => {
  let calls = 0;
  const count = createPartitionCounter({
    fetchTopicMetadata: ({ topics } = { topics: [] }) => {
      calls++;
      const partitions = topics[0] === "t" ? [{}, {}, {}] : [];
      return Promise.resolve({ topics: [{ name: topics[0]!, partitions }] }) as never;
    },
  });
  assert.equal(await count("t"), 3);
  assert.equal(await count("t"), 3);
  assert.equal(calls, 1);
  await assert.rejects(() => count("none"), /Topic none has no partitions/);
});
