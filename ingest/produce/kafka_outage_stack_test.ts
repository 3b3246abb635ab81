/**
 * Kafka stopped under the ingest (on a private stack, so no other test is disturbed): requests
 * are answered 503 with Retry-After and nothing is claimed accepted; once Kafka is back the
 * ingest recovers by itself, and every event it acknowledged is on the topic.
 */
import { silentLogger } from "../../shared/logger.ts";
import assert from "node:assert/strict";
import { decodeEvent } from "../../shared/event.ts";
import { privateStack } from "../../stack/harness.ts";
import { createIngestApp } from "../http/app.ts";
import { createTopicProducer } from "./topic_producer.ts";
import { testKafka } from "../../testing/kafka.ts";
import { testConfig } from "../../testing/test_config.ts";
import { sampleUser } from "../../testing/users.ts";
import { waitUntil } from "../../testing/wait.ts";
import { signedRequest } from "../../testing/webhook.ts";

Deno.test("Kafka stopped: 503 with Retry-After and nothing claimed accepted, then recovery", async () => {
  const stack = await privateStack({ prefix: "ingest-outage" });
  const kafka = testKafka(stack.env.KAFKA_BROKERS);
  let cleanup = async () => {};
  try {
    const topic = await kafka.createTopic("ingest_outage");
    const producer = createTopicProducer(kafka.connection, {
      topic,
      logger: silentLogger,
      readyCacheMs: 0,
    });
    await producer.connect();
    const app = createIngestApp(testConfig({ INGEST_ACK_TIMEOUT_MS: "2000" }), {
      producer,
      ready: producer.ready,
    });
    cleanup = async () => {
      await app.close();
      await producer.disconnect();
    };
    const acknowledged: string[] = [];
    const post = async () => {
      const response = await app.handler(await signedRequest(JSON.stringify(sampleUser())));
      const body = await response.json();
      if (response.status === 202) acknowledged.push(...body.event_ids);
      return { response, body };
    };
    const ready = async () => (await app.handler(new Request("http://ingest.test/readyz"))).status;

    assert.equal((await post()).response.status, 202);
    assert.equal(await ready(), 200);

    await stack.stopBroker(1);
    const during = [];
    for (let i = 0; i < 3; i++) during.push(await post());
    for (const { response, body } of during) {
      assert.equal(response.status, 503, JSON.stringify(body));
      assert.ok(Number(response.headers.get("retry-after")) > 0, "Retry-After is set");
      assert.match(body.detail, /nothing of this request was accepted/);
    }
    assert.equal(acknowledged.length, 1, "nothing acknowledged while Kafka is down");
    await waitUntil(async () => await ready() === 503, 30_000, "/readyz to report not ready");

    await stack.startBroker(1);
    // Recovery needs no restart: the ingest answers 202 again by itself. The poll is paced
    // like a sender honouring Retry-After.
    await waitUntil(
      async () => (await post()).response.status === 202,
      60_000,
      "a request to be accepted after Kafka came back",
      { intervalMs: 500 },
    );
    await waitUntil(async () => await ready() === 200, 30_000, "/readyz to report ready");

    const records = await kafka.readTopic(topic, { timeoutMs: 60_000 });
    const written = new Set(records.map((r) => {
      const d = decodeEvent(r.value);
      assert.ok(d.ok);
      return d.event.event_id;
    }));
    for (const id of acknowledged) {
      assert.ok(written.has(id), `acknowledged event ${id} is on the topic`);
    }
  } finally {
    await cleanup();
    await stack.stop();
  }
});
