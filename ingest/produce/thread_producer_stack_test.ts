/**
 * The worker-thread producer against the shared stack's Kafka: what it acknowledges is on the
 * topic, keyed and with headers, and it reports readiness, partition leaders and errors from the
 * worker.
 */
import { plainConnection, testKafka } from "../../testing/kafka.ts";
import assert from "node:assert/strict";
import { sharedStack } from "../../stack/harness.ts";
import { createThreadProducer } from "./thread_producer.ts";

Deno.test("createThreadProducer() produces through the Kafka layer on a worker thread", async () => {
  const env = await sharedStack();
  const kafka = testKafka(env.KAFKA_BROKERS);
  const topic = await kafka.createTopic("ingest_thread_producer");
  const producer = createThreadProducer({
    connection: plainConnection(env.KAFKA_BROKERS, "ingest-test"),
    topic,
    logLevel: "error",
  });
  try {
    await producer.connect();
    const encoder = new TextEncoder();
    const messages = Array.from({ length: 50 }, (_, i) => ({
      key: `user-${i}`,
      value: encoder.encode(JSON.stringify({ i })),
      headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    }));
    await producer.send(messages);
    assert.equal(await producer.ready(), true);
    const records = await kafka.readTopic(topic);
    assert.deepEqual(
      records.map((r) => [r.key, new TextDecoder().decode(r.value!)]).sort(),
      messages.map((_, i) => [`user-${i}`, JSON.stringify({ i })]).sort(),
    );
    assert.ok(records.every((r) => r.headers.traceparent?.startsWith("00-0af76519")));
    // The partition leaders, read on the worker for the batcher's send lanes.
    const leaders = await producer.leaders();
    assert.equal(leaders.length, 6, `one leader per partition: ${leaders}`);
    assert.ok(leaders.every((l) => l >= 1), `node ids: ${leaders}`);
  } finally {
    await producer.disconnect();
    await kafka.deleteTopics([topic]);
  }
});

Deno.test("createThreadProducer() rejects a send that Kafka refuses, with its message", async () => {
  const env = await sharedStack();
  const producer = createThreadProducer({
    connection: plainConnection(env.KAFKA_BROKERS, "ingest-test"),
    topic: "no_such_topic_for_ingest_tests",
    logLevel: "error",
  });
  try {
    await assert.rejects(
      producer.connect(),
      /Topic no_such_topic_for_ingest_tests does not exist \(auto-creation is off\)/,
    );
    await assert.rejects(
      producer.send([{ key: "k", value: new Uint8Array([1]) }]),
      /no_such_topic_for_ingest_tests/i,
    );
    await assert.rejects(producer.leaders(), /no_such_topic_for_ingest_tests/i);
  } finally {
    await producer.disconnect();
  }
});
