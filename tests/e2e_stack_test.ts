/**
 * End to end, with the real programs as processes (each with its deno.json task's permission
 * flags): signed webhook → ingest → Kafka → worker → PostgreSQL, plus invalid records written
 * straight to the topic by "another producer", which must end up as dead letters. Once over
 * the stack's plaintext listener, once over SASL_SSL (SCRAM-SHA-512) as managed Kafka needs.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import type { UserInput } from "../shared/event.ts";
import { kafkaConnection } from "../shared/kafka/settings.ts";
import { securedStack, sharedStack, uniqueName } from "../stack/harness.ts";
import { testKafka } from "../testing/kafka.ts";
import { type RunningProgram, startProgram } from "../testing/program.ts";
import { sampleUser } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";
import { signedRequest, TEST_SECRET } from "../testing/webhook.ts";

const USERS = 300;
const UPDATED = 60;

Deno.test("webhook events become rows with the latest values; invalid records become dead letters", async () => {
  const env = await sharedStack();
  await scenario({ KAFKA_BROKERS: env.KAFKA_BROKERS }, env.WAREHOUSE_URL);
});

Deno.test("the same pipeline runs over SASL_SSL with SCRAM-SHA-512 and a private CA", async () => {
  const stack = await securedStack();
  try {
    await scenario(stack.secure, stack.plain.WAREHOUSE_URL);
  } finally {
    await stack.stop();
  }
});

/** The whole scenario with `kafkaEnv` (the KAFKA_* connection variables) for every client. */
async function scenario(kafkaEnv: Record<string, string>, warehouseUrl: string): Promise<void> {
  const kafka = testKafka(
    await kafkaConnection({
      KAFKA_BROKERS: kafkaEnv.KAFKA_BROKERS!.split(","),
      KAFKA_SSL: kafkaEnv.KAFKA_SSL === "true",
      KAFKA_SSL_CA_FILE: kafkaEnv.KAFKA_SSL_CA_FILE,
      KAFKA_SASL_MECHANISM: kafkaEnv.KAFKA_SASL_MECHANISM as "scram-sha-512" | undefined,
      KAFKA_SASL_USERNAME: kafkaEnv.KAFKA_SASL_USERNAME,
      KAFKA_SASL_PASSWORD: kafkaEnv.KAFKA_SASL_PASSWORD,
    }, "e2e"),
  );
  const topic = uniqueName("e2e");
  const dlq = `${topic}.dlq`;
  const schema = uniqueName("e2e");
  const sql = postgres(warehouseUrl, { max: 2, onnotice: () => {} });
  const programs: RunningProgram[] = [];
  try {
    await kafka.createTopics([topic], 6);
    await kafka.createTopics([dlq], 2);
    const worker = await startProgram("worker", {
      ...kafkaEnv,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: dlq,
      KAFKA_GROUP_ID: uniqueName("e2e_group"),
      WAREHOUSE_URL: warehouseUrl,
      WAREHOUSE_SCHEMA: schema,
      WORKER_PORT: "0",
      WORKER_HOSTNAME: "127.0.0.1",
    });
    programs.push(worker);
    const ingest = await startProgram("ingest", {
      ...kafkaEnv,
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
    const text = (t: string) => new TextEncoder().encode(t);
    const invalid = [
      { key: "k-bad-json", value: text("{not json") },
      { key: "k-bad-utf8", value: new Uint8Array([0xc3, 0x28, 0xff]) },
      { key: "k-bad-schema", value: text(JSON.stringify({ schema_version: 1, user: {} })) },
    ];
    await kafka.produce(topic, invalid);

    const count = async () =>
      Number((await sql.unsafe(`select count(*)::int as n from ${schema}.users`))[0]?.n);
    const deadLetters = await explained(
      kafka.readTopic(dlq, { expected: invalid.length, timeoutMs: 60_000 }),
      programs,
    );
    await explained(
      waitUntil(
        async () => (await count().catch(() => 0)) === USERS,
        60_000,
        `${USERS} rows`,
        { intervalMs: 100 },
      ),
      programs,
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
      { intervalMs: 100 },
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
      assert.deepEqual(m.value, original.value, "original bytes untouched");
      assert.equal(m.headers["__connect.errors.topic"], topic);
      assert.ok(m.headers["__connect.errors.exception.message"], "the reason is given");
      assert.ok(m.headers["__connect.errors.stage"], "the stage is given");
    }

    // A normal start, run and stop: warnings and errors would mean something is wrong, and
    // nothing but our JSON lines reaches stderr.
    const stopped = [];
    for (const p of programs.reverse().splice(0)) stopped.push({ p, status: await p.stop() });
    for (const { p, status } of stopped) {
      assert.equal(status.code, 0, `${p.name} stops cleanly`);
      const noisy = p.logs.filter((l) =>
        l.level === "warn" || l.level === "error" || l.msg === "(raw)"
      );
      assert.deepEqual(noisy, [], `${p.name} logged nothing at warn or error`);
    }
  } finally {
    for (const p of programs.reverse()) await p.stop();
    await kafka.admin.deleteTopics([topic, dlq]).catch(() => {});
    await kafka.close();
    await sql.unsafe(`drop schema if exists ${schema} cascade`).catch(() => {});
    await sql.end();
  }
}

/**
 * `waiting`, or its error with each program's last log lines: a wait that times out in CI
 * then says what the programs were doing (joining, retrying, reconnecting).
 */
async function explained<T>(waiting: Promise<T>, programs: readonly RunningProgram[]): Promise<T> {
  try {
    return await waiting;
  } catch (err) {
    const logs = programs.map((p) =>
      `${p.name}:\n${p.logs.slice(-15).map((l) => JSON.stringify(l)).join("\n")}`
    ).join("\n");
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
  }
}
