/**
 * Security properties of the whole app: hostile requests are refused as client mistakes
 * (4xx problem+json, nothing produced), and neither the secret nor a personal record reaches
 * the logs on any path.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../shared/logger.ts";
import { createIngestApp } from "./app.ts";
import { MAX_WEBHOOK_ID_LENGTH } from "./authenticate.ts";
import { ProduceError } from "../produce/produce_error.ts";
import { signWebhook } from "./webhook_signature.ts";
import { FakeProducer } from "../../testing/fakes.ts";
import { testConfig } from "../../testing/test_config.ts";
import { sampleUser } from "../../testing/users.ts";
import { signedRequest, TEST_SECRET } from "../../testing/webhook.ts";

async function problemOf(response: Response, status: number) {
  assert.equal(response.status, status, `status of ${await response.clone().text()}`);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  return await response.json();
}

Deno.test("POST /v1/users refuses an over-long webhook-id with 400 and remembers nothing", async () => {
  const producer = new FakeProducer();
  await using app = disposable(createIngestApp(testConfig(), { producer }));
  const id = "m".repeat(MAX_WEBHOOK_ID_LENGTH + 1);
  const response = await app.handler(await signedRequest(JSON.stringify(sampleUser()), { id }));
  const problem = await problemOf(response, 400);
  assert.match(problem.detail, /^webhook-id is 257 characters long, the limit is 256$/);
  assert.equal(producer.messages.length, 0);
});

Deno.test("POST /v1/users answers 408 for a body that stalls, and produces nothing", async () => {
  const producer = new FakeProducer();
  await using app = disposable(createIngestApp(testConfig(), { producer, bodyTimeoutMs: 50 }));
  const stalled = new ReadableStream<Uint8Array>({
    start: (c) => c.enqueue(new TextEncoder().encode('{"id":')),
  });
  const request = new Request("http://ingest.test/v1/users", {
    method: "POST",
    body: stalled,
    headers: { "content-type": "application/json" },
  });
  const problem = await problemOf(await app.handler(request), 408);
  assert.equal(problem.detail, "The body did not arrive within 50 ms");
  assert.equal(producer.messages.length, 0);
});

Deno.test("POST /v1/users refuses a body claimed to be gzip with 415", async () => {
  const producer = new FakeProducer();
  await using app = disposable(createIngestApp(testConfig(), { producer }));
  const request = await signedRequest(JSON.stringify(sampleUser()), {
    headers: { "content-encoding": "gzip" },
  });
  await problemOf(await app.handler(request), 415);
  assert.equal(producer.messages.length, 0);
});

Deno.test("the logs hold neither the webhook secret nor a user's personal data, on any path", async () => {
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", write: (line) => lines.push(line) });
  const producer = new FakeProducer();
  const app = createIngestApp(testConfig({ INGEST_ACK_TIMEOUT_MS: "100" }), { producer, logger });
  const user = sampleUser(4242, {
    first_name: "Leakfirstname",
    last_name: "Leaklastname",
    email: "leak.canary@example.com",
    phone: "+1 555 0100 4242",
  });
  const body = JSON.stringify(user);
  const statuses: number[] = [];
  const send = async (request: Request) => {
    const response = await app.handler(request);
    statuses.push(response.status);
    await response.body?.cancel();
  };
  try {
    await send(await signedRequest(body)); // accepted
    await send(await signedRequest(body, { tamper: (b) => b.replace("Leak", "Lea") })); // 401
    await send(await signedRequest(body, { secret: "whsec_" + btoa("x".repeat(32)) })); // 401
    const badEmail = JSON.stringify({ ...user, email: `Leakfirstname ${user.email}` });
    await send(await signedRequest(badEmail)); // 400
    await send(await signedRequest(`{"first_name":"Leakfirstname",`)); // 400 bad JSON
    producer.fail = new ProduceError("kafka_unavailable", "broker down");
    await send(await signedRequest(body)); // 503
    producer.fail = new Error(`unexpected failure while sending ${body}`);
    await send(await signedRequest(body)); // 503 (the batcher wraps it)
    // Accepted with secret-looking extras in the headers (a second signature, a bearer token).
    producer.fail = null;
    const ts = Math.floor(Date.now() / 1000);
    const bytes = new TextEncoder().encode(body);
    const signature = await signWebhook(TEST_SECRET, "msg_log_1", ts, bytes);
    await send(
      new Request("http://ingest.test/v1/users", {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "webhook-id": "msg_log_1",
          "webhook-timestamp": String(ts),
          "webhook-signature": `${signature} v1,${TEST_SECRET.slice(6)}`,
          authorization: `Bearer ${TEST_SECRET}`,
        },
      }),
    );
  } finally {
    await app.close();
  }
  assert.deepEqual(statuses, [202, 401, 401, 400, 400, 503, 503, 202]);
  assert.ok(lines.length >= 3, `expected some log lines, got ${lines.length}`);
  const logs = lines.join("\n");
  const key = TEST_SECRET.slice("whsec_".length);
  for (
    const canary of [
      TEST_SECRET,
      key,
      atob(key),
      "Leakfirstname",
      "Leaklastname",
      "leak.canary",
      "555 0100",
    ]
  ) {
    assert.ok(!logs.includes(canary), `the logs contain "${canary}":\n${logs}`);
  }
});

function disposable<T extends { close(): Promise<void> }>(app: T): T & AsyncDisposable {
  return Object.assign(app, { [Symbol.asyncDispose]: () => app.close() });
}

Deno.test("GET /openapi.json lists every status the webhook answers with", async () => {
  await using app = disposable(createIngestApp(testConfig(), { producer: new FakeProducer() }));
  const doc = await (await app.handler(new Request("http://ingest.test/openapi.json"))).json();
  const statuses = Object.keys(doc.paths["/v1/users"].post.responses).sort();
  assert.deepEqual(statuses, ["202", "400", "401", "408", "409", "413", "415", "503"]);
  assert.match(doc.paths["/v1/users"].post.responses["415"].description, /charset|encoded/);
});

Deno.test("invented HTTP methods do not grow the metrics: they count as one method label", async () => {
  await using app = disposable(createIngestApp(testConfig(), { producer: new FakeProducer() }));
  for (let i = 0; i < 50; i++) {
    const response = await app.handler(
      new Request(`http://ingest.test/${i % 2 ? "v1/users" : `nope${i}`}`, { method: `M${i}` }),
    );
    assert.ok([404, 405].includes(response.status));
    await response.body?.cancel();
  }
  const metrics = await (await app.handler(new Request("http://ingest.test/metrics"))).text();
  const methods = new Set(
    [...metrics.matchAll(/^ingest_http_requests_total\{[^}]*method="([^"]*)"/gm)].map((m) => m[1]),
  );
  assert.deepEqual([...methods].sort(), ["other"]);
});
