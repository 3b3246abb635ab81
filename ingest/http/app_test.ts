import assert from "node:assert/strict";
import { decodeEvent } from "../../shared/event.ts";
import { createIngestApp, type IngestApp } from "./app.ts";
import { fakeLanes, FakeProducer, FakeTracing } from "../../testing/fakes.ts";
import { formatTraceparent } from "../../shared/tracing.ts";
import { testConfig } from "../../testing/test_config.ts";
import { randomUserResult, sampleUser } from "../../testing/users.ts";
import { OTHER_SECRET, signedRequest } from "../../testing/webhook.ts";
import { waitUntil } from "../../testing/wait.ts";

interface Harness {
  app: IngestApp;
  producer: FakeProducer;
  [Symbol.asyncDispose](): Promise<void>;
}

function harness(
  overrides: Record<string, string> = {},
  deps: { fetch?: typeof fetch; ready?: () => Promise<boolean>; tracing?: FakeTracing } = {},
): Harness {
  const producer = new FakeProducer();
  const app = createIngestApp(testConfig(overrides), { producer, ...deps });
  return { app, producer, [Symbol.asyncDispose]: () => app.close() };
}

async function problemOf(response: Response, status: number) {
  assert.equal(response.status, status, `status of ${await response.clone().text()}`);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  return await response.json();
}

Deno.test("POST /v1/users answers 202 with event ids once the events are produced", async () => {
  await using h = harness();
  const user = sampleUser();
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const response = await h.app.handler(
    await signedRequest(JSON.stringify(user), { headers: { traceparent } }),
  );
  assert.equal(response.status, 202);
  const body = await response.json();
  assert.equal(body.accepted, 1);
  assert.equal(h.producer.messages.length, 1);
  const message = h.producer.messages[0]!;
  assert.equal(message.key, user.id);
  const decoded = decodeEvent(message.value);
  assert.ok(decoded.ok);
  assert.deepEqual(body.event_ids, [decoded.event.event_id]);
  assert.equal(decoded.event.source, "webhook");
  assert.equal(decoded.event.user.post_code, "42000");
  assert.equal(decoded.event.user.last_name, user.last_name);
  assert.equal(message.headers?.traceparent?.slice(0, 35), traceparent.slice(0, 35));
  assert.equal(response.headers.get("traceparent"), message.headers?.traceparent);
});

Deno.test("POST /v1/users produces a whole batch (JSON array and NDJSON)", async () => {
  await using h = harness();
  const users = [sampleUser(), sampleUser(), sampleUser()];
  const array = await h.app.handler(await signedRequest(JSON.stringify(users)));
  assert.equal(array.status, 202);
  assert.equal((await array.json()).event_ids.length, 3);
  const ndjson = await h.app.handler(
    await signedRequest(users.map((u) => JSON.stringify(u)).join("\n"), {
      contentType: "application/x-ndjson",
    }),
  );
  assert.equal(ndjson.status, 202);
  assert.deepEqual(
    h.producer.messages.map((m) => m.key),
    [...users, ...users].map((u) => u.id),
  );
});

Deno.test("POST /v1/users refuses bad signatures with 401 and produces nothing", async () => {
  await using h = harness();
  const body = JSON.stringify(sampleUser());
  const cases: [string, Request][] = [
    ["tampered body", await signedRequest(body, { tamper: (b) => b.replace("Zoë", "Eve") })],
    ["wrong secret", await signedRequest(body, { secret: OTHER_SECRET })],
    ["stale", await signedRequest(body, { timestamp: Math.floor(Date.now() / 1000) - 3600 })],
    [
      "unsigned",
      new Request("http://ingest.test/v1/users", {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      }),
    ],
  ];
  for (const [what, request] of cases) {
    const problem = await problemOf(await h.app.handler(request), 401);
    assert.equal(problem.title, "Unauthorized", what);
  }
  assert.equal(h.producer.messages.length, 0);
});

Deno.test("POST /v1/users refuses a replayed webhook-id with 409, but allows a retry after a 503", async () => {
  await using h = harness({ INGEST_ACK_TIMEOUT_MS: "100" });
  const body = JSON.stringify(sampleUser());
  assert.equal((await h.app.handler(await signedRequest(body, { id: "msg_same" }))).status, 202);
  const replay = await problemOf(
    await h.app.handler(await signedRequest(body, { id: "msg_same" })),
    409,
  );
  assert.match(replay.detail, /msg_same" was already received/);

  h.producer.fail = new Error("broker down");
  const failed = await h.app.handler(await signedRequest(body, { id: "msg_retry" }));
  await problemOf(failed, 503);
  h.producer.fail = null;
  assert.equal((await h.app.handler(await signedRequest(body, { id: "msg_retry" }))).status, 202);
});

Deno.test("POST /v1/users accepts unsigned requests only when allowed", async () => {
  await using h = harness({ WEBHOOK_SECRET: "", INGEST_ALLOW_UNSIGNED: "true" });
  const response = await h.app.handler(
    new Request("http://ingest.test/v1/users", {
      method: "POST",
      body: JSON.stringify(sampleUser()),
      headers: { "content-type": "application/json" },
    }),
  );
  assert.equal(response.status, 202);
});

Deno.test("POST /v1/users answers 400 with per-item errors and produces none of the batch", async () => {
  await using h = harness();
  const batch = [sampleUser(), sampleUser(7, { email: "nope" }), sampleUser()];
  const problem = await problemOf(
    await h.app.handler(await signedRequest(JSON.stringify(batch))),
    400,
  );
  assert.equal(problem.errors.length, 1);
  assert.equal(problem.errors[0].index, 1);
  assert.equal(problem.errors[0].issues[0].path, "email");
  const wrongTypes = await problemOf(
    await h.app.handler(
      await signedRequest(JSON.stringify({ ...sampleUser(), first_name: 5, dob: true })),
    ),
    400,
  );
  assert.deepEqual(wrongTypes.errors[0].issues.map((i: { path: string }) => i.path).sort(), [
    "dob",
    "first_name",
  ]);
  const badJson = await problemOf(await h.app.handler(await signedRequest("{oops")), 400);
  assert.match(badJson.detail, /Body is not JSON/);
  assert.equal(h.producer.messages.length, 0);
});

Deno.test("POST /v1/users writes a user without nat and cell as version 1, with them as version 2", async () => {
  await using h = harness();
  const valueOf = (i: number) =>
    JSON.parse(new TextDecoder().decode(h.producer.messages[i]!.value));
  const v1 = sampleUser();
  assert.equal((await h.app.handler(await signedRequest(JSON.stringify(v1)))).status, 202);
  const first = valueOf(0);
  assert.equal(first.schema_version, 1);
  assert.ok(!("nat" in first.user) && !("cell" in first.user), "absent stays absent");
  assert.match(new TextDecoder().decode(h.producer.messages[0]!.value), /^\{"schema_version":1,/);

  const v2 = sampleUser(undefined, { nat: "CH", cell: "075 418 52 46" });
  assert.equal((await h.app.handler(await signedRequest(JSON.stringify(v2)))).status, 202);
  const second = valueOf(1);
  assert.equal(second.schema_version, 2);
  assert.equal(second.user.nat, "CH");
  assert.equal(second.user.cell, "075 418 52 46");
  assert.ok(decodeEvent(h.producer.messages[1]!.value).ok, "the worker reads it");

  // null is not absent: a sender that says "no nationality" knows the field (version 2); one
  // batch may mix versions, each event saying its own.
  const batch = [sampleUser(undefined, { nat: null }), sampleUser()];
  assert.equal((await h.app.handler(await signedRequest(JSON.stringify(batch)))).status, 202);
  assert.deepEqual([valueOf(2).schema_version, valueOf(3).schema_version], [2, 1]);
  assert.equal(valueOf(2).user.nat, null);
  assert.ok(!("cell" in valueOf(2).user));
});

Deno.test("POST /v1/users answers 400 naming nat for a nationality that is not two capital letters", async () => {
  await using h = harness();
  // Unlike the pull, the webhook refuses a bad nat: its sender can fix and resend.
  for (const nat of ["ch", "CHE", "", " GB", 41]) {
    const body = JSON.stringify([sampleUser(), { ...sampleUser(5), nat }]);
    const problem = await problemOf(await h.app.handler(await signedRequest(body)), 400);
    assert.equal(problem.errors.length, 1, JSON.stringify(nat));
    assert.equal(problem.errors[0].index, 1);
    assert.deepEqual(problem.errors[0].issues.map((i: { path: string }) => i.path), ["nat"]);
    assert.match(problem.detail, /item 1: nat: /);
    if (typeof nat === "string") {
      assert.match(problem.errors[0].issues[0].message, /^Invalid nationality: expected two/);
    }
  }
  const tooLong = await problemOf(
    await h.app.handler(
      await signedRequest(JSON.stringify(sampleUser(6, { cell: "0".repeat(65) }))),
    ),
    400,
  );
  assert.deepEqual(tooLong.errors[0].issues, [{
    path: "cell",
    message: "Too long: at most 64 characters",
  }]);
  assert.equal(h.producer.messages.length, 0);
});

Deno.test("POST /v1/users answers 400 naming the field for a timestamp no warehouse can store", async () => {
  await using h = harness();
  const cases: [string, string][] = [
    ["dob", "0000-01-01T00:00:00Z"], // PostgreSQL has no year 0
    ["dob", "9999-12-31T23:59:59-23:59"], // year 10000 in UTC
    ["registered_date", "0001-01-01T00:00:00+00:01"], // year 0 in UTC
  ];
  for (const [field, value] of cases) {
    const problem = await problemOf(
      await h.app.handler(await signedRequest(JSON.stringify(sampleUser(1, { [field]: value })))),
      400,
    );
    assert.deepEqual(problem.errors[0].issues.map((i: { path: string }) => i.path), [field]);
    assert.match(problem.errors[0].issues[0].message, /in UTC lies in years 0001\.\.9999/);
  }
  const edges = { dob: "0001-01-01T00:00:00Z", registered_date: "9999-12-31T23:59:59.999Z" };
  const ok = await h.app.handler(await signedRequest(JSON.stringify(sampleUser(2, edges))));
  assert.equal(ok.status, 202);
  assert.equal(h.producer.messages.length, 1);
});

Deno.test("POST /v1/users answers 400 for an empty batch and blank names", async () => {
  await using h = harness();
  const empty = await problemOf(await h.app.handler(await signedRequest("[]")), 400);
  assert.match(empty.detail, /Empty batch/);
  const blank = await problemOf(
    await h.app.handler(
      await signedRequest(JSON.stringify(sampleUser(3, { first_name: "\u3000\t" }))),
    ),
    400,
  );
  assert.equal(blank.errors[0].issues[0].path, "first_name");
  assert.equal(h.producer.messages.length, 0);
});

Deno.test("POST /v1/users answers 413 for a large body or too many items, 415 for a wrong type", async () => {
  await using h = harness({ INGEST_MAX_BODY_BYTES: "2048", INGEST_MAX_ITEMS: "2" });
  const big = JSON.stringify({ ...sampleUser(), address: "x".repeat(3000) });
  const tooBig = await problemOf(await h.app.handler(await signedRequest(big)), 413);
  assert.match(tooBig.detail, /the limit is 2048 bytes/);
  const many = JSON.stringify([sampleUser(), sampleUser(), sampleUser()]);
  const tooMany = await problemOf(await h.app.handler(await signedRequest(many)), 413);
  assert.match(tooMany.detail, /Too many items: 3, the limit is 2/);
  await problemOf(
    await h.app.handler(await signedRequest("{}", { contentType: "text/plain" })),
    415,
  );
  assert.equal(h.producer.messages.length, 0);
});

Deno.test("POST /v1/users answers 503 with Retry-After when Kafka fails or the buffer is full", async () => {
  await using h = harness({ INGEST_BUFFER_MAX_BYTES: "2048", INGEST_MAX_BODY_BYTES: "1024" });
  h.producer.fail = new Error("broker down");
  const failed = await h.app.handler(await signedRequest(JSON.stringify(sampleUser())));
  const problem = await problemOf(failed, 503);
  assert.equal(failed.headers.get("retry-after"), "5");
  assert.equal(problem.reason, "kafka_unavailable");
  h.producer.fail = null;
  // A first request's events stay in flight and fill most of the buffer; the next one cannot fit.
  const gate = Promise.withResolvers<void>();
  h.producer.hold = gate.promise;
  const pair = () => JSON.stringify([sampleUser(), sampleUser()]);
  const first = h.app.handler(await signedRequest(pair()));
  try {
    const full = await h.app.handler(await signedRequest(pair()));
    assert.equal((await problemOf(full, 503)).reason, "buffer_full");
    assert.equal(full.headers.get("retry-after"), "1");
  } finally {
    gate.resolve();
  }
  assert.equal((await first).status, 202);
});

Deno.test("unknown routes answer 404, wrong methods 405 with Allow", async () => {
  await using h = harness();
  await problemOf(await h.app.handler(new Request("http://ingest.test/nope")), 404);
  const response = await h.app.handler(new Request("http://ingest.test/v1/users"));
  await problemOf(response, 405);
  assert.equal(response.headers.get("allow"), "POST");
  // Method names that are also Object.prototype's keys are not routes either.
  for (const method of ["constructor", "toString", "hasOwnProperty", "__proto__"]) {
    const other = await h.app.handler(new Request("http://ingest.test/healthz", { method }));
    await problemOf(other, 405);
    assert.equal(other.headers.get("allow"), "GET");
  }
});

Deno.test("GET /healthz, /readyz and /metrics report the process, Kafka and counters", async () => {
  let kafkaUp = true;
  await using h = harness({}, { ready: () => Promise.resolve(kafkaUp) });
  assert.equal((await h.app.handler(new Request("http://ingest.test/healthz"))).status, 200);
  assert.equal((await h.app.handler(new Request("http://ingest.test/readyz"))).status, 200);
  kafkaUp = false;
  const notReady = await h.app.handler(new Request("http://ingest.test/readyz"));
  assert.equal(notReady.status, 503);
  assert.equal((await notReady.json()).kafka, false);

  await h.app.handler(await signedRequest(JSON.stringify([sampleUser(), sampleUser()])));
  await h.app.handler(await signedRequest("{", {}));
  const metrics = await (await h.app.handler(new Request("http://ingest.test/metrics"))).text();
  assert.match(metrics, /ingest_events_accepted_total\{source="webhook"\} 2/);
  assert.match(
    metrics,
    /ingest_http_requests_total\{route="\/v1\/users",method="POST",status="202"\} 1/,
  );
  assert.match(
    metrics,
    /ingest_http_requests_total\{route="\/v1\/users",method="POST",status="400"\} 1/,
  );
  assert.match(metrics, /ingest_produce_batch_messages_count 1/);
  assert.match(metrics, /ingest_buffer_fill_ratio 0/);
});

Deno.test("GET /readyz stays ready while one send lane is stalled, and POST /v1/users accepts the other lanes' users", async () => {
  const [onOne, onTwo] = [sampleUser(), sampleUser()];
  const producer = new FakeProducer();
  const gate = Promise.withResolvers<void>();
  const hung = new Set([onOne.id]);
  producer.holdWhere = { match: (m) => hung.has(m.key), until: gate.promise };
  const app = createIngestApp(testConfig({ INGEST_ACK_TIMEOUT_MS: "100" }), {
    producer,
    lanes: fakeLanes({ [onOne.id]: 1, [onTwo.id]: 2 }),
  });
  const readyz = () => app.handler(new Request("http://ingest.test/readyz"));
  try {
    await problemOf(await app.handler(await signedRequest(JSON.stringify(onOne))), 503);
    await waitUntil(() => app.stats().stalledLanes.length === 1, 5_000, "lane 1 to stall");
    const ready = await readyz();
    assert.equal(ready.status, 200);
    const body = await ready.json();
    assert.equal(body.stalled, false);
    assert.deepEqual(body.stalledLanes, [1]);
    assert.equal(
      (await app.handler(await signedRequest(JSON.stringify(onTwo)))).status,
      202,
      "broker 2's user is accepted while broker 1 hangs",
    );

    hung.add(onTwo.id); // now broker 2 hangs too
    const again = await signedRequest(JSON.stringify(onTwo));
    await problemOf(await app.handler(again), 503);
    await waitUntil(() => app.stats().stalled, 5_000, "every lane to stall");
    const notReady = await readyz();
    assert.equal(notReady.status, 503);
    assert.deepEqual((await notReady.json()).stalledLanes, [1, 2]);
  } finally {
    gate.resolve();
    await app.close();
  }
});

Deno.test("GET /openapi.json describes the webhook with the zod schema's fields", async () => {
  await using h = harness();
  const doc = await (await h.app.handler(new Request("http://ingest.test/openapi.json"))).json();
  assert.equal(doc.openapi, "3.1.0");
  const user = doc.components.schemas.User;
  assert.deepEqual(user.required.sort(), ["email", "first_name", "id", "last_name"]);
  assert.equal(user.properties.email.maxLength, 320);
  assert.ok(doc.paths["/v1/users"].post.responses["503"]);
  assert.ok(doc.paths["/v1/pull"].post.responses["401"], "POST /v1/pull answers 401 too");
  assert.ok(!JSON.stringify(doc).includes("#/$defs/"), "references point into components");
});

Deno.test("POST /v1/pull runs the pull job and GET /v1/pull/runs shows it", async () => {
  const uuid = "0c3e5a7d-1b2f-4c6d-8e9f-a0b1c2d3e4f5";
  const fakeFetch = (() =>
    Promise.resolve(
      Response.json({ results: [randomUserResult(uuid)], info: {} }),
    )) as typeof fetch;
  await using h = harness({}, { fetch: fakeFetch });
  const response = await h.app.handler(await signedRequest("", { path: "/v1/pull" }));
  assert.equal(response.status, 200);
  const run = await response.json();
  assert.equal(run.outcome, "ok");
  assert.equal(run.produced, 1);
  assert.equal(h.producer.messages[0]?.key, uuid);
  const decoded = decodeEvent(h.producer.messages[0]!.value);
  assert.ok(decoded.ok && decoded.event.source === "randomuser");
  assert.equal(decoded.event.schema_version, 2, "a pulled user carries nat and cell");
  assert.equal(decoded.event.user.nat, "TR");
  assert.equal(decoded.event.user.cell, "(578)-530-7615");
  const runs = await (await h.app.handler(new Request("http://ingest.test/v1/pull/runs"))).json();
  assert.equal(runs.runs.length, 1);
  assert.equal(runs.runs[0].trigger, "manual");

  const unsigned = await h.app.handler(
    new Request("http://ingest.test/v1/pull", { method: "POST" }),
  );
  assert.equal(unsigned.status, 401);
});

Deno.test("POST /v1/pull answers 502 for a failed run and lets the caller retry with the same id", async () => {
  const down = (() => Promise.resolve(new Response("", { status: 404 }))) as typeof fetch;
  await using h = harness({}, { fetch: down });
  for (let i = 0; i < 2; i++) {
    const response = await h.app.handler(
      await signedRequest("", { path: "/v1/pull", id: "msg_pull" }),
    );
    const problem = await problemOf(response, 502);
    assert.equal(problem.run.outcome, "failed");
    assert.match(problem.detail, /answered 404/);
  }
});

Deno.test("POST /v1/users answers 503 with Retry-After while other requests hold the body budget", async () => {
  await using h = harness({ INGEST_MAX_BODY_BYTES: "2048", INGEST_BODY_BYTES_IN_FLIGHT: "2048" });
  const release = Promise.withResolvers<void>();
  h.producer.hold = release.promise;
  // The first request keeps its reservation until its answer: Kafka has not acknowledged yet.
  const first = h.app.handler(await signedRequest(JSON.stringify(sampleUser())));
  await waitUntil(() => h.producer.sends.length === 1, 10_000, "the first request's send");
  const second = await h.app.handler(await signedRequest(JSON.stringify(sampleUser())));
  const body = await problemOf(second, 503);
  assert.equal(second.headers.get("retry-after"), "1");
  assert.equal(body.title, "Too many request bodies in flight");
  assert.equal(h.producer.sends.length, 1, "nothing of the refused request was produced");
  release.resolve();
  assert.equal((await first).status, 202);
  const third = await h.app.handler(await signedRequest(JSON.stringify(sampleUser())));
  assert.equal(third.status, 202, "the budget is given back with the answer");
});

Deno.test("POST /v1/users with tracing: the records and the answer carry the request span's context", async () => {
  const tracing = new FakeTracing();
  await using h = harness({}, { tracing });
  // Deno.serve makes its request span the active one around the handler.
  const request = tracing.startSpan("POST", { kind: "server" });
  const response = await tracing.withSpan(
    request,
    async () => h.app.handler(await signedRequest(JSON.stringify([sampleUser(), sampleUser()]))),
  );
  assert.equal(response.status, 202);
  const expected = formatTraceparent(request.context());
  assert.deepEqual(h.producer.messages.map((m) => m.headers?.traceparent), [expected, expected]);
  assert.equal(response.headers.get("traceparent"), expected);
});

Deno.test("POST /v1/pull with tracing: the run is a span under the request, and its records carry it", async () => {
  const fakeFetch = (() =>
    Promise.resolve(
      Response.json({ results: [randomUserResult(crypto.randomUUID())] }),
    )) as typeof fetch;
  const tracing = new FakeTracing();
  await using h = harness({}, { fetch: fakeFetch, tracing });
  const request = tracing.startSpan("POST", { kind: "server" });
  const response = await tracing.withSpan(
    request,
    async () => h.app.handler(await signedRequest("", { path: "/v1/pull" })),
  );
  assert.equal(response.status, 200);
  const [pull] = tracing.named("randomuser pull");
  assert.equal(pull?.parent, request);
  assert.ok(pull.ended);
  assert.equal(pull.attributes["user_pipeline.pull.produced"], 1);
  assert.equal(h.producer.messages[0]?.headers?.traceparent, formatTraceparent(pull.context()));
});
