/**
 * Bounded fuzzing of the webhook, with a fixed seed (FUZZ_SEED overrides it, FUZZ_SCALE
 * multiplies the counts for a longer run on demand).
 *
 * 1. In-process: thousands of random and mutated requests through `createIngestApp`'s handler
 *    with a fake producer. A reference model says, for each case, whether the request is valid
 *    (signed right, accepted media type and encoding, UTF-8, within the limits, every item a
 *    user); the app must answer 202 and produce exactly those users for a valid one, and a 4xx
 *    problem+json and produce nothing for any other. Never 5xx, never a hang, never an error log.
 * 2. Over loopback against the real `deno task ingest` process with real Kafka: a sample of the
 *    same cases through `fetch`, plus raw-socket requests `fetch` cannot send (lying
 *    Content-Length, chunked bodies over the limit, bodies that stop or stall). Afterwards the
 *    topic holds only valid events, exactly the ones answered 202.
 */
import assert from "node:assert/strict";
import { decodeEvent, userSchema } from "../shared/event.ts";
import { createLogger } from "../shared/logger.ts";
import { createIngestApp } from "../ingest/http/app.ts";
import { FakeProducer } from "../testing/fakes.ts";
import { testKafka } from "../testing/kafka.ts";
import { startProgram } from "../testing/program.ts";
import { testConfig } from "../testing/test_config.ts";
import { sampleUser } from "../testing/users.ts";
import { OTHER_SECRET, TEST_SECRET } from "../testing/webhook.ts";
import { signWebhook } from "../ingest/http/webhook_signature.ts";
import { sharedStack } from "../stack/harness.ts";
import { createRng, type Rng } from "../testing/rng.ts";
import {
  deepJson,
  FuzzCounts,
  HOSTILE_STRINGS,
  INVALID_UTF8,
  mutateBytes,
  randomJson,
} from "./_fuzz.ts";
import { rawExchange } from "./_raw_http.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261124);
const SCALE = Number(Deno.env.get("FUZZ_SCALE") ?? 1);
const MAX_BODY = 64 * 1024;
const MAX_ITEMS = 50;
/** A request that takes longer than this has hung. */
const ANSWER_BOUND_MS = 10_000;
const encoder = new TextEncoder();

/** How a case signs its request. */
type SignMode =
  | "good"
  | "none"
  | "no-id"
  | "no-timestamp"
  | "wrong-secret"
  | "stale"
  | "future"
  | "bad-timestamp"
  | "v1a"
  | "bad-base64"
  | "tampered"
  | "good-among-bad"
  | "empty-signature";

const BAD_SIGN_MODES: readonly SignMode[] = [
  "none",
  "no-id",
  "no-timestamp",
  "wrong-secret",
  "stale",
  "future",
  "bad-timestamp",
  "v1a",
  "bad-base64",
  "tampered",
  "empty-signature",
];

/** One fuzz case: the parts of a POST /v1/users. */
interface Case {
  category: string;
  body: Uint8Array<ArrayBuffer>;
  contentType: string | null;
  headers?: Record<string, string>;
  sign: SignMode;
  /** Overrides the model (for cases whose validity the model cannot see, e.g. header merges). */
  expect?: "reject";
}

// ---------------------------------------------------------------------------------------------
// The reference model

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const ACCEPTED = new Set(["application/json", "application/x-ndjson"]);

/** How many users a valid request carries, or null when the request must be refused. */
function modelAccepts(c: Case): number | null {
  if (c.expect === "reject") return null;
  if (c.sign !== "good" && c.sign !== "good-among-bad") return null;
  if (encoded(c)) return null;
  if (c.contentType === null) return null;
  const [head, ...params] = c.contentType.split(";");
  const type = head!.trim().toLowerCase();
  if (!ACCEPTED.has(type)) return null;
  for (const p of params) {
    const [name, value] = p.split("=", 2).map((s) => s.trim().toLowerCase());
    if (name === "charset" && !["utf-8", "utf8"].includes(value?.replace(/^"(.*)"$/, "$1") ?? "")) {
      return null;
    }
  }
  if (c.body.length > MAX_BODY) return null;
  let text: string;
  try {
    text = strictUtf8.decode(c.body);
  } catch {
    return null;
  }
  let items: unknown[];
  try {
    if (type === "application/x-ndjson") {
      items = text.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => JSON.parse(l));
    } else {
      const data: unknown = JSON.parse(text);
      if (Array.isArray(data)) items = data;
      else if (data !== null && typeof data === "object") items = [data];
      else return null;
    }
  } catch {
    return null;
  }
  if (items.length === 0 || items.length > MAX_ITEMS) return null;
  return items.every((i) => userSchema.safeParse(i).success) ? items.length : null;
}

// ---------------------------------------------------------------------------------------------
// Case generators

let idCounter = 0;
const nextId = () => `msg_fuzz_${SEED}_${idCounter++}`;

function validUsers(rng: Rng, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, () => ({ ...sampleUser(rng.int(1_000_000)) }));
}

function validBody(rng: Rng): { body: Uint8Array<ArrayBuffer>; contentType: string } {
  const users = validUsers(rng, 1 + rng.int(4));
  switch (rng.int(3)) {
    case 0:
      return { body: encoder.encode(JSON.stringify(users[0])), contentType: "application/json" };
    case 1:
      return { body: encoder.encode(JSON.stringify(users)), contentType: "application/json" };
    default:
      return {
        body: encoder.encode(users.map((u) => JSON.stringify(u)).join(rng.pick(["\n", "\r\n"]))),
        contentType: "application/x-ndjson",
      };
  }
}

const CONTENT_TYPES = [
  "application/json",
  "application/x-ndjson",
  "APPLICATION/JSON",
  "application/json; charset=utf-8",
  'application/json; charset="UTF-8"',
  "application/json; charset=iso-8859-1",
  "application/json;charset=utf-16",
  "application/x-ndjson; charset=utf8",
  "text/plain",
  "application/xml",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded",
  "application/jsonx",
  " application/json ",
  "application/json; foo=bar",
  "",
  ";",
  "application/json; charset",
];

const generators: Record<string, (rng: Rng) => Case> = {
  random_bytes: (rng) => ({
    category: "random_bytes",
    body: rng.bytes(rng.int(2_000)),
    contentType: rng.pick(["application/json", "application/x-ndjson"]),
    sign: "good",
  }),
  mutated_valid: (rng) => {
    const { body, contentType } = validBody(rng);
    return { category: "mutated_valid", body: mutateBytes(rng, body), contentType, sign: "good" };
  },
  structured_json: (rng) => {
    let value: unknown;
    const users = validUsers(rng, 1 + rng.int(3));
    const user = users[0]!;
    const field = rng.pick(Object.keys(user));
    switch (rng.int(6)) {
      case 0:
        value = randomJson(rng, 4);
        break;
      case 1: // one field replaced by anything
        user[field] = randomJson(rng, 2);
        value = users;
        break;
      case 2: // one field replaced by a hostile string
        user[field] = rng.pick(HOSTILE_STRINGS);
        value = users;
        break;
      case 3: // one field removed
        delete user[field];
        value = users;
        break;
      case 4: // extra fields, prototype keys
        value = { ...user, __proto__: { admin: true }, extra: randomJson(rng, 2) };
        break;
      default:
        value = rng.chance(0.5) ? users : user; // valid
    }
    return {
      category: "structured_json",
      body: encoder.encode(JSON.stringify(value) ?? "null"),
      contentType: "application/json",
      sign: "good",
    };
  },
  invalid_utf8: (rng) => {
    const user = sampleUser(rng.int(1_000_000));
    const text = JSON.stringify(user);
    const at = text.indexOf(user.last_name) + rng.int(user.last_name.length);
    const body = [...encoder.encode(text.slice(0, at)), ...rng.pick(INVALID_UTF8)];
    return {
      category: "invalid_utf8",
      body: Uint8Array.from([...body, ...encoder.encode(text.slice(at))]),
      contentType: rng.pick(["application/json", "application/x-ndjson"]),
      sign: "good",
    };
  },
  deep_and_huge: (rng) => {
    const depth = rng.pick([100, 1_000, 10_000, 30_000, 40_000]);
    const kind = rng.pick(["deep_array", "deep_object", "deep_field", "huge", "many"] as const);
    let body: string;
    if (kind === "deep_array") body = deepJson("array", depth);
    else if (kind === "deep_object") body = deepJson("object", depth);
    else if (kind === "deep_field") {
      body = JSON.stringify(sampleUser(rng.int(1e6))).replace(
        /"gender":"[^"]*"/,
        `"gender":${deepJson(rng.pick(["array", "object"]), Math.min(depth, 10_000))}`,
      );
    } else if (kind === "huge") {
      const size = rng.pick([MAX_BODY - 200, MAX_BODY + 1, 4 * MAX_BODY]);
      body = JSON.stringify({ ...sampleUser(rng.int(1e6)), address: "x".repeat(size) });
    } else {
      const n = rng.pick([MAX_ITEMS, MAX_ITEMS + 1, 10 * MAX_ITEMS]);
      body = JSON.stringify(Array.from({ length: n }, () => ({})));
    }
    return {
      category: "deep_and_huge",
      body: encoder.encode(body),
      contentType: "application/json",
      sign: "good",
    };
  },
  headers: (rng) => {
    const { body, contentType } = validBody(rng);
    const c: Case = { category: "headers", body, contentType, sign: "good", headers: {} };
    switch (rng.int(5)) {
      case 0:
        // A JSON array read as NDJSON (or the reverse) is judged by the model as it is.
        c.contentType = rng.chance(0.1) ? null : rng.pick(CONTENT_TYPES);
        break;
      case 1:
        c.headers!["content-encoding"] = rng.pick(["gzip", "deflate", "br", "identity", "zstd"]);
        break;
      case 2:
        c.sign = rng.pick(BAD_SIGN_MODES);
        break;
      case 3:
        c.sign = "good-among-bad";
        break;
      default: // noise that must not matter, or a traceparent that must not break anything
        c.headers![rng.pick(["traceparent", "x-forwarded-for", "accept-encoding", "cookie"])] = rng
          .pick(["00-zz-zz-01", "127.0.0.1", "gzip", "garbage\t", "a=b; c"]);
    }
    return c;
  },
};

/** The request of a case, with its signature headers. */
async function toRequest(c: Case, base: string): Promise<Request> {
  const headers = new Headers(c.headers);
  if (c.contentType !== null) headers.set("content-type", c.contentType);
  const id = nextId();
  const now = Math.floor(Date.now() / 1000);
  const ts = c.sign === "stale" ? now - 3_600 : c.sign === "future" ? now + 3_600 : now;
  const signed = c.sign === "tampered" ? encoder.encode("{}") : c.body;
  const good = await signWebhook(
    c.sign === "wrong-secret" ? OTHER_SECRET : TEST_SECRET,
    id,
    ts,
    signed,
  );
  const value = good.slice(3);
  const signature: Record<SignMode, string | null> = {
    good,
    none: null,
    "no-id": good,
    "no-timestamp": good,
    "wrong-secret": good,
    stale: good,
    future: good,
    "bad-timestamp": good,
    "v1a": `v1a,${value}`,
    "bad-base64": `v1,${value.slice(0, 20)}!${value.slice(20)}`,
    tampered: good,
    "good-among-bad": `v1,${btoa("x".repeat(32))} v2,${value} ${good}`,
    "empty-signature": "",
  };
  const sig = signature[c.sign];
  if (sig !== null) headers.set("webhook-signature", sig);
  if (c.sign !== "no-id") headers.set("webhook-id", id);
  if (c.sign !== "no-timestamp") {
    headers.set("webhook-timestamp", c.sign === "bad-timestamp" ? `${ts}.0` : String(ts));
  }
  return new Request(`${base}/v1/users`, { method: "POST", body: c.body, headers });
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Resolves with `promise`, or fails the test after `ms` (a hang). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Checks one answer against the model; returns how many events it should have produced. */
async function checkAnswer(response: Response, expected: number | null, what: string) {
  const text = await response.text();
  const status = response.status;
  assert.ok(status < 500, `${what}: answered ${status} ${text}`);
  if (expected !== null) {
    assert.equal(status, 202, `${what}: a valid request answered ${status} ${text}`);
    assert.equal(JSON.parse(text).accepted, expected, `${what}: accepted count`);
  } else {
    assert.ok(status >= 400, `${what}: an invalid request answered ${status} ${text}`);
    assert.equal(
      response.headers.get("content-type"),
      "application/problem+json",
      `${what}: ${status} without problem+json`,
    );
    assert.equal(JSON.parse(text).status, status, `${what}: problem status`);
  }
  return status;
}

function encoded(c: Case): boolean {
  const encoding = c.headers?.["content-encoding"]?.trim().toLowerCase();
  return encoding !== undefined && encoding !== "identity";
}

function describe(c: Case, index: number, seed = SEED): string {
  const preview = new TextDecoder().decode(c.body.subarray(0, 120));
  return `seed ${seed} case ${index} (${c.category}, sign=${c.sign}, type=${c.contentType}, ` +
    `headers=${JSON.stringify(c.headers ?? {})}, ${c.body.length} bytes: ${preview})`;
}

const PLAN: [string, number][] = [
  ["random_bytes", 400],
  ["mutated_valid", 1_000],
  ["structured_json", 700],
  ["invalid_utf8", 150],
  ["deep_and_huge", 60],
  ["headers", 700],
];

// ---------------------------------------------------------------------------------------------
// 1. In-process

Deno.test("fuzz: the webhook handler answers every hostile request as the model says", async () => {
  const rng = createRng(SEED);
  const lines: string[] = [];
  const producer = new FakeProducer();
  const app = createIngestApp(
    testConfig({ INGEST_MAX_BODY_BYTES: String(MAX_BODY), INGEST_MAX_ITEMS: String(MAX_ITEMS) }),
    {
      producer,
      bodyTimeoutMs: 50,
      logger: createLogger({ level: "warn", write: (l) => lines.push(l) }),
      fetch: () => Promise.resolve(new Response("nope", { status: 500 })),
    },
  );
  const counts = new FuzzCounts();
  const deadline = Date.now() + 60_000;
  let produced = 0;
  try {
    let index = 0;
    for (const [category, n] of PLAN) {
      for (let i = 0; i < n * SCALE && Date.now() < deadline; i++, index++) {
        const c = generators[category]!(rng);
        const what = describe(c, index);
        const expected = modelAccepts(c);
        const response = await within(
          app.handler(await toRequest(c, "http://ingest.test")),
          ANSWER_BOUND_MS,
          what,
        );
        counts.add(category, await checkAnswer(response, expected, what));
        produced += expected ?? 0;
        assert.equal(producer.messages.length, produced, `${what}: events produced`);
      }
    }
    for (let i = 0; i < 300 * SCALE && Date.now() < deadline; i++, index++) {
      produced += await streamCase(rng, app.handler, counts, index);
    }
    for (let i = 0; i < 300 * SCALE && Date.now() < deadline; i++, index++) {
      await routeCase(rng, app.handler, counts, index);
    }
    assert.equal(producer.messages.length, produced, "events produced by stream and route cases");
  } finally {
    await app.close();
  }
  for (const m of producer.messages) {
    const decoded = decodeEvent(m.value);
    assert.ok(decoded.ok, `the producer received an invalid event: ${JSON.stringify(decoded)}`);
    assert.equal(m.key, decoded.event.user.id);
  }
  assert.deepEqual(lines, [], "no warning or error was logged");
  for (const [category] of [...PLAN, ["stream_bodies"], ["routes"]]) {
    assert.ok(
      (counts.tried.get(category!) ?? 0) > 0,
      `no ${category} case ran before the deadline`,
    );
  }
  // deno-lint-ignore no-console
  console.log(counts.table(`in-process webhook fuzz (seed ${SEED})`));
});

/** Bodies as streams: chunked over the limit, lying Content-Length, stalled, broken, trickled. */
async function streamCase(
  rng: Rng,
  handler: (r: Request) => Promise<Response>,
  counts: FuzzCounts,
  index: number,
): Promise<number> {
  const { body, contentType } = validBody(rng);
  const kind = rng.pick(["over_limit", "lying_short", "lying_long", "stall", "error", "trickle"]);
  const id = nextId();
  const ts = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    "content-type": contentType,
    "webhook-id": id,
    "webhook-timestamp": String(ts),
    "webhook-signature": await signWebhook(TEST_SECRET, id, ts, body),
  };
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += 97) chunks.push(body.subarray(i, i + 97));
  if (kind === "over_limit") {
    for (let i = 0; i < Math.ceil(MAX_BODY / 4096) + 2; i++) chunks.push(new Uint8Array(4096));
  }
  if (kind === "lying_short") headers["content-length"] = String(rng.int(body.length));
  if (kind === "lying_long") headers["content-length"] = String(body.length + 1 + rng.int(100));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      // A trickle yields between chunks without a timer, so no deadline can catch it.
      if (kind === "trickle") { for (let i = 0; i < 10; i++) await Promise.resolve(); }
      if (sent < chunks.length) return controller.enqueue(chunks[sent++]!);
      if (kind === "stall") return await new Promise<void>(() => {}); // never more
      if (kind === "error") return controller.error(new Error("connection reset by peer"));
      controller.close();
    },
  }, { highWaterMark: 0 });
  const request = new Request("http://ingest.test/v1/users", {
    method: "POST",
    body: stream,
    headers,
  });
  const expected = kind === "trickle"
    ? (modelAccepts({
      category: "stream_bodies",
      body,
      contentType,
      sign: "good",
    }))
    : null;
  const what = `seed ${SEED} case ${index} (stream_bodies ${kind}, ${body.length} bytes)`;
  const response = await within(handler(request), ANSWER_BOUND_MS, what);
  const status = await checkAnswer(response, expected, what);
  const wanted: Record<string, number[]> = {
    over_limit: [413],
    lying_short: [400],
    lying_long: [400],
    stall: [408],
    error: [400],
    trickle: [202],
  };
  assert.ok(wanted[kind]!.includes(status), `${what}: answered ${status}`);
  counts.add("stream_bodies", status);
  return expected ?? 0;
}

/** Random methods and paths, signed or not: never 5xx, never 2xx for a write. */
async function routeCase(
  rng: Rng,
  handler: (r: Request) => Promise<Response>,
  counts: FuzzCounts,
  index: number,
): Promise<void> {
  const method = rng.pick(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"]);
  const path = rng.pick([
    "/v1/users",
    "/v1/pull",
    "/v1/pull/runs",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/v1/users/../healthz",
    "/%2e%2e/etc/passwd",
    "//v1//users",
    "/v1/users?x=1",
    `/${"a".repeat(2_000)}`,
    "/v1/USERS",
  ]);
  const hasBody = method !== "GET" && method !== "HEAD";
  const body = hasBody ? mutateBytes(rng, encoder.encode(JSON.stringify(sampleUser()))) : null;
  // Unsigned, or signed with a wrong secret: no write may succeed.
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (rng.chance(0.5) && body) {
    const id = nextId();
    const ts = Math.floor(Date.now() / 1000);
    headers["webhook-id"] = id;
    headers["webhook-timestamp"] = String(ts);
    headers["webhook-signature"] = await signWebhook(OTHER_SECRET, id, ts, body);
  }
  const what = `seed ${SEED} case ${index} (routes ${method} ${path.slice(0, 40)})`;
  const response = await within(
    handler(new Request(`http://ingest.test${path}`, { method, body, headers })),
    ANSWER_BOUND_MS,
    what,
  );
  await response.body?.cancel();
  assert.ok(response.status < 500, `${what}: answered ${response.status}`);
  const reads = ["GET", "HEAD"].includes(method);
  if (!reads) assert.ok(response.status >= 400, `${what}: a write answered ${response.status}`);
  counts.add("routes", response.status);
}

// ---------------------------------------------------------------------------------------------
// 2. The real process over loopback

Deno.test("fuzz: the real ingest process over loopback answers hostile requests as the model says", async () => {
  const stack = await sharedStack();
  const kafka = testKafka(stack.KAFKA_BROKERS);
  const topic = await kafka.createTopic("fuzz_webhook");
  const ingest = await startProgram("ingest", {
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    KAFKA_TOPIC: topic,
    INGEST_HOST: "127.0.0.1",
    INGEST_PORT: "0",
    WEBHOOK_SECRET: TEST_SECRET,
    INGEST_MAX_BODY_BYTES: String(MAX_BODY),
    INGEST_BUFFER_MAX_BYTES: String(4 * MAX_BODY),
    INGEST_MAX_ITEMS: String(MAX_ITEMS),
    PULL_ENABLED: "false",
  });
  const base = `http://127.0.0.1:${ingest.port}`;
  // A fresh connection per request: after an early refusal the ingest closes the connection,
  // and a pooled one could be reused in the moment before the client notices.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const send = (request: Request) => fetch(request, { client });
  const rng = createRng(SEED + 1);
  const counts = new FuzzCounts();
  let accepted = 0;
  try {
    // The slow body runs alongside everything else: the ingest's body deadline is 10 s.
    const slow = rawCase(ingest.port, counts, "stall", 408, 30_000).then(() => null, (e) => e);
    const deadline = Date.now() + 40_000;
    let index = 0;
    for (const [category, n] of PLAN) {
      for (let i = 0; i < Math.ceil(n / 20) * SCALE && Date.now() < deadline; i++, index++) {
        const c = generators[category]!(rng);
        const what = `loopback ${describe(c, index, SEED + 1)}`;
        const expected = modelAccepts(c);
        let response: Response;
        try {
          response = await within(send(await toRequest(c, base)), ANSWER_BOUND_MS, what);
        } catch (err) {
          // The ingest refuses an oversized or encoded body from its headers (413, 415) and
          // closes the connection without reading it; fetch, still writing, may report the
          // closed pipe instead of the answer.
          const early = c.body.length > MAX_BODY || encoded(c);
          if (
            expected !== null || !early || !/Broken pipe|reset|connection closed/i.test(String(err))
          ) {
            throw new Error(`${what}: ${err}`, { cause: err });
          }
          counts.add(category, 0);
          continue;
        }
        counts.add(category, await checkAnswer(response, expected, what));
        accepted += expected ?? 0;
      }
    }
    const raw: [RawKind, number, number][] = [
      ["lying_long_then_end", 400, 10],
      ["lying_short", 0, 10],
      ["chunked_over_limit", 413, 5],
      ["bad_content_length", 400, 5],
      ["chunked_valid", 202, 5],
      ["gzip_claim", 415, 5],
      // Refused by Deno's HTTP server before the handler: 431 on Deno 2.5, 400 on 2.9.
      ["huge_header", 0, 3],
    ];
    for (const [kind, status, n] of raw) {
      for (let i = 0; i < n * SCALE && Date.now() < deadline; i++) {
        accepted += await rawCase(ingest.port, counts, kind, status, ANSWER_BOUND_MS);
      }
    }
    const slowError = await slow;
    if (slowError) throw slowError;
    const health = await within(
      send(new Request(`${base}/healthz`)),
      ANSWER_BOUND_MS,
      "healthz after fuzz",
    );
    assert.equal(health.status, 200, "the ingest still answers after the fuzz run");
    await health.body?.cancel();
  } catch (err) {
    client.close();
    const status = await ingest.stop();
    await kafka.deleteTopics([topic]);
    const tail = ingest.logs.slice(-5).map((l) => JSON.stringify(l)).join("\n");
    throw new Error(`${(err as Error).message}\ningest ${JSON.stringify(status)}:\n${tail}`, {
      cause: err,
    });
  }
  client.close();
  const status = await ingest.stop();
  const tail = ingest.logs.slice(-5).map((l) => JSON.stringify(l)).join("\n");
  try {
    assert.equal(status.code, 0, `the ingest stops cleanly; its last log lines:\n${tail}`);
    const errors = ingest.logs.filter((l) => l.level === "error");
    assert.deepEqual(errors, [], "the ingest logged no errors");
    const records = await kafka.readTopic(topic);
    for (const r of records) {
      const decoded = decodeEvent(r.value);
      assert.ok(decoded.ok, `Kafka holds an invalid event: ${JSON.stringify(decoded)}`);
    }
    assert.equal(records.length, accepted, "Kafka holds exactly the events answered 202");
  } finally {
    await kafka.deleteTopics([topic]);
  }
  // deno-lint-ignore no-console
  console.log(counts.table(`loopback webhook fuzz against the real ingest (seed ${SEED + 1})`));
});

type RawKind =
  | "stall"
  | "lying_long_then_end"
  | "lying_short"
  | "chunked_over_limit"
  | "bad_content_length"
  | "chunked_valid"
  | "gzip_claim"
  | "huge_header";

/**
 * One raw-socket request; `status` 0 means "any 4xx". Returns how many events it should have
 * produced.
 */
async function rawCase(
  port: number,
  counts: FuzzCounts,
  kind: RawKind,
  status: number,
  timeoutMs: number,
): Promise<number> {
  const user = sampleUser();
  const body = encoder.encode(JSON.stringify(user));
  const id = nextId();
  const ts = Math.floor(Date.now() / 1000);
  const signature = await signWebhook(TEST_SECRET, id, ts, body);
  const head = (extra: string) =>
    `POST /v1/users HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
    `webhook-id: ${id}\r\nwebhook-timestamp: ${ts}\r\nwebhook-signature: ${signature}\r\n` +
    `connection: close\r\n${extra}\r\n`;
  const chunk = (bytes: Uint8Array) =>
    Uint8Array.from([
      ...encoder.encode(`${bytes.length.toString(16)}\r\n`),
      ...bytes,
      ...encoder.encode("\r\n"),
    ]);
  const requests: Record<RawKind, () => Parameters<typeof rawExchange>[1]> = {
    stall: () => ({
      head: head(`content-length: ${body.length}\r\n`),
      parts: [body.subarray(0, 10)],
      then: "stall",
      timeoutMs,
    }),
    lying_long_then_end: () => ({
      head: head(`content-length: ${body.length + 50}\r\n`),
      parts: [body],
      then: "end",
      timeoutMs,
    }),
    lying_short: () => ({
      head: head(`content-length: ${body.length - 5}\r\n`),
      parts: [body],
      then: "stall",
      timeoutMs,
    }),
    chunked_over_limit: () => ({
      head: head("transfer-encoding: chunked\r\n"),
      parts: Array.from({ length: 40 }, () => chunk(new Uint8Array(4096).fill(0x20))),
      then: "stall",
      timeoutMs,
    }),
    bad_content_length: () => ({
      head: head(`content-length: ${body.length}, ${body.length + 1}\r\n`),
      parts: [body],
      then: "stall",
      timeoutMs,
    }),
    chunked_valid: () => ({
      head: head("transfer-encoding: chunked\r\n"),
      parts: [chunk(body.subarray(0, 50)), chunk(body.subarray(50)), encoder.encode("0\r\n\r\n")],
      then: "stall",
      timeoutMs,
    }),
    gzip_claim: () => ({
      head: head(`content-length: ${body.length}\r\ncontent-encoding: gzip\r\n`),
      parts: [body],
      then: "stall",
      timeoutMs,
    }),
    huge_header: () => ({
      head: head(`x-filler: ${"a".repeat(512 * 1024)}\r\ncontent-length: ${body.length}\r\n`),
      parts: [body],
      then: "stall",
      timeoutMs,
    }),
  };
  const started = Date.now();
  const response = await rawExchange(port, requests[kind]());
  const what = `raw ${kind} after ${Date.now() - started} ms: ${response.head.split("\r\n")[0]} ${
    response.body.slice(0, 200)
  }`;
  if (status === 0) {
    assert.ok(response.status >= 400 && response.status < 500, what);
  } else if (kind === "lying_long_then_end") {
    // The client half-closed mid-body: the read fails (400), and hyper may close the
    // connection before that answer is written.
    assert.ok(response.status === 400 || response.status === 0, what);
  } else if (kind === "huge_header") {
    // hyper refuses an oversized head itself (431), or closes the connection without a word.
    assert.ok(response.status === 431 || response.status === 0, what);
  } else {
    assert.equal(response.status, status, what);
  }
  if (response.status >= 400 && kind !== "huge_header" && kind !== "bad_content_length") {
    assert.match(response.head, /content-type: application\/problem\+json/i, what);
  }
  counts.add(`raw_${kind}`, response.status);
  return response.status === 202 ? 1 : 0;
}
