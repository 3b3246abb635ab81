/**
 * The webhook and the pull job against the shared stack's real Kafka: what is answered 202 is
 * on the topic with key = user id, and what is refused is not.
 */
import { silentLogger } from "../../shared/logger.ts";
import assert from "node:assert/strict";
import { decodeEvent } from "../../shared/event.ts";
import { sharedStack } from "../../stack/harness.ts";
import { createIngestApp } from "../http/app.ts";
import { createTopicProducer } from "./topic_producer.ts";
import { testKafka } from "../../testing/kafka.ts";
import { testConfig } from "../../testing/test_config.ts";
import { randomUserResult, sampleUser } from "../../testing/users.ts";
import { OTHER_SECRET, signedRequest } from "../../testing/webhook.ts";

Deno.test("signed webhook requests reach Kafka keyed by user id; refused ones do not", async () => {
  const env = await sharedStack();
  const kafka = testKafka(env.KAFKA_BROKERS);
  const topic = await kafka.createTopic("ingest_webhook");
  const producer = createTopicProducer(kafka.connection, {
    topic,
    logger: silentLogger,
  });
  await producer.connect();
  const app = createIngestApp(testConfig({ INGEST_MAX_ITEMS: "5" }), { producer });
  // A real socket, as senders reach it.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.handler);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const send = async (request: Request) => {
    const response = await fetch(new Request(`${url}${new URL(request.url).pathname}`, request));
    return { status: response.status, body: await response.json() };
  };
  try {
    const single = sampleUser();
    const batch = [sampleUser(), sampleUser(), sampleUser()];
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const accepted = [
      await send(await signedRequest(JSON.stringify(single), { headers: { traceparent } })),
      await send(await signedRequest(JSON.stringify(batch))),
    ];
    assert.deepEqual(accepted.map((r) => r.status), [202, 202]);
    assert.equal(await producer.ready(), true);

    const body = JSON.stringify(sampleUser());
    const refused = [
      await send(await signedRequest(body, { tamper: (b) => b.replace("Zoë", "Eve") })),
      await send(await signedRequest(body, { secret: OTHER_SECRET })),
      await send(await signedRequest(body, { timestamp: Math.floor(Date.now() / 1000) - 600 })),
      await send(await signedRequest(body, { id: "msg_once" })),
      await send(await signedRequest(body, { id: "msg_once" })), // the replay
      await send(await signedRequest("{not json")),
      await send(await signedRequest(JSON.stringify({ ...sampleUser(), email: 7 }))),
      await send(
        await signedRequest(JSON.stringify(Array.from({ length: 6 }, () => sampleUser()))),
      ),
      await send(
        await signedRequest(JSON.stringify({ ...sampleUser(), x: "y".repeat(1_100_000) })),
      ),
    ];
    assert.deepEqual(refused.map((r) => r.status), [401, 401, 401, 202, 409, 400, 400, 413, 413]);

    const records = await kafka.readTopic(topic);
    const expectedIds = [single.id, ...batch.map((u) => u.id), JSON.parse(body).id].sort();
    assert.deepEqual(records.map((r) => r.key).sort(), expectedIds, "exactly the accepted users");
    const eventIds = [...accepted, refused[3]!].flatMap((r) => r.body.event_ids).sort();
    const decoded = records.map((r) => decodeEvent(r.value));
    assert.deepEqual(decoded.map((d) => d.ok && d.event.event_id).sort(), eventIds);
    const first = records.find((r) => r.key === single.id)!;
    const event = decodeEvent(first.value);
    assert.ok(event.ok);
    assert.deepEqual(event.event.user, { ...single, post_code: "42000" });
    assert.equal(event.event.source, "webhook");
    assert.match(first.headers.traceparent ?? "", /^00-0af7651916cd43dd8448eb211c80319c-/);
  } finally {
    await server.shutdown();
    await app.close();
    await producer.disconnect();
    await kafka.deleteTopics([topic]);
  }
});

Deno.test("the pull job survives 500s, slow answers and malformed bodies of a stand-in randomuser API", async () => {
  const env = await sharedStack();
  const kafka = testKafka(env.KAFKA_BROKERS);
  const topic = await kafka.createTopic("ingest_pull");
  const producer = createTopicProducer(kafka.connection, {
    topic,
    logger: silentLogger,
  });
  await producer.connect();

  // The stand-in answers from a script, one step per request.
  type Step = "500" | "429" | "slow" | "malformed" | "not-randomuser" | "ok";
  const script: Step[] = ["500", "429", "slow", "ok", "malformed", "not-randomuser", "ok"];
  const requested: string[] = [];
  const uuids = [crypto.randomUUID(), crypto.randomUUID()];
  const slow = new AbortController();
  const standIn = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    requested.push(new URL(request.url).search);
    const step = script.shift() ?? "500";
    switch (step) {
      case "500":
        return new Response("oops", { status: 500 });
      case "429":
        return new Response("slow down", { status: 429 });
      case "slow":
        // Answers only when the test ends: the ingest's timeout must fire first.
        return new Promise((resolve) =>
          slow.signal.addEventListener("abort", () => resolve(new Response("late")))
        );
      case "malformed":
        return new Response('{"results": [', { headers: { "content-type": "application/json" } });
      case "not-randomuser":
        return Response.json({ error: "Uh oh, something has gone wrong." });
      case "ok":
        return Response.json({
          results: [
            randomUserResult(uuids[0]!),
            randomUserResult(uuids[1]!, {
              location: { ...randomUserResult("x").location as object, postcode: "EC1A 1BB" },
            }),
            { ...randomUserResult(crypto.randomUUID()), email: null }, // rejected, not fatal
          ],
          info: { seed: "abc", results: 3, page: 1, version: "1.4" },
        });
    }
  });
  const app = createIngestApp(
    testConfig({
      RANDOMUSER_URL: `http://127.0.0.1:${standIn.addr.port}/api/`,
      PULL_COUNT: "3",
      PULL_TIMEOUT_MS: "300",
      PULL_RETRIES: "3",
      PULL_BACKOFF_MS: "10",
    }),
    { producer },
  );
  try {
    const first = await app.pull("schedule"); // 500, 429, slow (timeout), then ok
    assert.equal(first.outcome, "partial", first.error);
    assert.equal(first.produced, 2);
    assert.equal(first.rejected, 1);
    assert.match(first.error ?? "", /result 2: email/);
    assert.deepEqual(requested.slice(0, 4), Array(4).fill("?results=3"));

    const malformed = await app.pull("schedule");
    assert.equal(malformed.outcome, "failed");
    assert.match(malformed.error ?? "", /not JSON/);
    const wrongShape = await app.pull("manual");
    assert.equal(wrongShape.outcome, "failed");
    assert.match(wrongShape.error ?? "", /Not a randomuser response/);
    assert.equal(requested.length, 6, "malformed bodies are not retried");

    // Runs never overlap: a second run while one is going is skipped.
    const [running, skipped] = [app.pull("schedule"), app.pull("manual")];
    assert.equal((await skipped).outcome, "skipped");
    assert.equal((await running).outcome, "partial");

    const records = await kafka.readTopic(topic);
    assert.deepEqual(records.map((r) => r.key).sort(), [...uuids, ...uuids].sort());
    const postCodes = records.map((r) => {
      const d = decodeEvent(r.value);
      assert.ok(d.ok && d.event.source === "randomuser");
      return d.event.user.post_code;
    });
    assert.deepEqual(postCodes.sort(), ["76133", "76133", "EC1A 1BB", "EC1A 1BB"]);
  } finally {
    slow.abort();
    await app.close();
    await standIn.shutdown();
    await producer.disconnect();
    await kafka.deleteTopics([topic]);
  }
});
