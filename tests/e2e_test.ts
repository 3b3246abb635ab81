/**
 * End to end, with the real programs as processes (each with its deno.json task's permission
 * flags): signed webhook → ingest → Kafka → worker → PostgreSQL, plus invalid records written
 * straight to the topic by "another producer", which must end up as dead letters.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import postgres from "postgres";
import type { UserInput } from "../shared/event.ts";
import { createKafka } from "../shared/kafka.ts";
import { silentLogger } from "../shared/logger.ts";
import { createTopicsAndWait, sharedStack, uniqueName } from "../stack/harness.ts";
import { type RunningProgram, startProgram } from "../stack/programs.ts";
import { sampleUser, signedRequest, TEST_SECRET, waitUntil } from "../ingest/_testing.ts";

const USERS = 300;
const UPDATED = 60;

Deno.test("webhook events become rows with the latest values; invalid records become dead letters", async () => {
  const env = await sharedStack();
  const kafka = createKafka(
    { brokers: env.KAFKA_BROKERS.split(","), clientId: "e2e" },
    silentLogger,
  );
  const topic = uniqueName("e2e");
  const dlq = `${topic}.dlq`;
  const schema = uniqueName("e2e");
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const sql = postgres(env.WAREHOUSE_URL, { max: 2, onnotice: () => {} });
  const programs: RunningProgram[] = [];
  await admin.connect();
  try {
    await createTopicsAndWait(admin, [{ topic, numPartitions: 6 }, {
      topic: dlq,
      numPartitions: 2,
    }]);
    const worker = await startProgram("worker", {
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: dlq,
      KAFKA_GROUP_ID: uniqueName("e2e_group"),
      WAREHOUSE_URL: env.WAREHOUSE_URL,
      WAREHOUSE_SCHEMA: schema,
      WORKER_PORT: "0",
      WORKER_HOSTNAME: "127.0.0.1",
    });
    programs.push(worker);
    const ingest = await startProgram("ingest", {
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      INGEST_PORT: "0",
      INGEST_HOST: "127.0.0.1",
      WEBHOOK_SECRET: TEST_SECRET,
      PULL_ENABLED: "false",
    });
    programs.push(ingest);
    const post = async (body: string, contentType = "application/json") => {
      const signed = await signedRequest(body, { contentType });
      const response = await fetch(`http://127.0.0.1:${ingest.port}/v1/users`, {
        method: "POST",
        headers: signed.headers,
        body,
      });
      const json = await response.json();
      assert.equal(response.status, 202, JSON.stringify(json));
      return json.event_ids as string[];
    };

    // First version of every user as JSON arrays, then newer versions of some as NDJSON.
    const users: UserInput[] = Array.from(
      { length: USERS },
      (_, i) => sampleUser(i, { id: crypto.randomUUID() }),
    );
    const latest = new Map(users.map((u) => [u.id, u]));
    for (let i = 0; i < USERS; i += 100) {
      const ids = await post(JSON.stringify(users.slice(i, i + 100)));
      assert.equal(ids.length, 100);
    }
    const updates = users.slice(0, UPDATED).map((u) => ({ ...u, last_name: `${u.last_name}-v2` }));
    for (const u of updates) latest.set(u.id, u);
    await post(updates.map((u) => JSON.stringify(u)).join("\n"), "application/x-ndjson");

    // Another producer writes records that the worker must dead-letter, never drop.
    const invalid = [
      { key: "k-bad-json", value: Buffer.from("{not json") },
      { key: "k-bad-utf8", value: Buffer.from([0xc3, 0x28, 0xff]) },
      { key: "k-bad-schema", value: Buffer.from(JSON.stringify({ schema_version: 1, user: {} })) },
    ];
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: invalid });

    const count = async () =>
      Number((await sql.unsafe(`select count(*)::int as n from ${schema}.users`))[0]?.n);
    const deadLetters = await readAll(kafka, dlq, invalid.length, 60_000);
    await waitUntil(
      async () => (await count().catch(() => 0)) === USERS,
      60_000,
      `${USERS} rows`,
      100,
    );
    // The updates were acknowledged after the first versions; wait for them to be applied.
    await waitUntil(
      async () =>
        Number(
          (await sql.unsafe(
            `select count(*)::int as n from ${schema}.users where last_name like '%-v2'`,
          ))[0]?.n,
        ) === UPDATED,
      60_000,
      `${UPDATED} updated rows`,
      100,
    );

    const rows = await sql.unsafe(`select * from ${schema}.users`);
    assert.equal(rows.length, USERS, "one row per user id, nothing doubled");
    for (const row of rows) {
      const want = latest.get(row.id)!;
      assert.ok(want, `row ${row.id} was sent`);
      assert.equal(row.first_name, want.first_name);
      assert.equal(row.last_name, want.last_name);
      assert.equal(row.email, want.email);
      assert.equal(row.post_code, String(want.post_code));
      assert.equal(row.source, "webhook");
      assert.ok(row.date_added instanceof Date, "date_added is set");
      assert.ok(row.date_added <= row.updated_at, "date_added is not after updated_at");
    }

    assert.deepEqual(
      deadLetters.map((m) => m.key).sort(),
      invalid.map((m) => m.key).sort(),
      "every invalid record is a dead letter, under its original key",
    );
    for (const m of deadLetters) {
      const original = invalid.find((i) => i.key === m.key)!;
      assert.deepEqual(m.value, new Uint8Array(original.value), "original bytes untouched");
      assert.equal(m.headers["__connect.errors.topic"], topic);
      assert.ok(m.headers["__connect.errors.exception.message"], "the reason is given");
      assert.ok(m.headers["__connect.errors.stage"], "the stage is given");
    }
  } finally {
    for (const p of programs.reverse()) await p.stop();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => {});
    await admin.disconnect();
    await sql.unsafe(`drop schema if exists ${schema} cascade`).catch(() => {});
    await sql.end();
  }
});

interface ReadMessage {
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
}

/** Reads `topic` from the beginning until `count` messages arrived (or fails after `ms`). */
async function readAll(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  count: number,
  ms: number,
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName("e2e_reader") });
  const out: ReadMessage[] = [];
  const done = Promise.withResolvers<void>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        out.push({
          key: message.key?.toString() ?? "",
          value: new Uint8Array(message.value ?? []),
          headers,
        });
        if (out.length >= count) done.resolve();
        return Promise.resolve();
      },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      done.promise,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`only ${out.length} of ${count} messages on ${topic}`)),
          ms,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    return out;
  } finally {
    await consumer.disconnect();
  }
}
