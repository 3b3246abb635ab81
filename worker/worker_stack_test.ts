/**
 * Integration: events produced straight to a unique topic → the worker subprocess → PostgreSQL
 * of the shared stack. Each test uses its own topic, dead-letter topic, group and schema.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { sharedStack, uniqueName } from "../stack/harness.ts";
import { createPostgresDialect } from "./warehouse/postgres_dialect.ts";
import { DLQ_HEADERS } from "./batch/dead_letter.ts";
import { testKafka } from "../testing/kafka.ts";
import { type RunningProgram, startProgram } from "../testing/program.ts";
import { testEvent, testUser, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";

Deno.test("the worker splits a mixed stream exactly into rows and dead letters", async () => {
  const env = await sharedStack();
  const topic = uniqueName("w_split");
  const dlq = `${topic}.dlq`;
  const schema = uniqueName("w_split");
  const groupId = uniqueName("w_split_group");
  const kafka = testKafka(env.KAFKA_BROKERS);
  const sql = postgres(env.WAREHOUSE_URL, { max: 2, onnotice: () => {} });
  let worker: RunningProgram | undefined;
  try {
    await kafka.createTopics([topic, dlq], 3);
    // The table exists before the worker starts (its create is idempotent); a CHECK makes one
    // valid-looking row something the warehouse rejects permanently.
    for (const ddl of createPostgresDialect({ schema, table: "users" }).createTable()) {
      await sql.unsafe(ddl);
    }
    await sql.unsafe(
      `ALTER TABLE ${schema}.users ADD CONSTRAINT no_rejects CHECK (first_name <> 'Reject Me')`,
    );

    const t0 = Date.parse("2026-01-01T00:00:00.000Z");
    const first = Array.from({ length: 200 }, (_, i) => testEvent(testUser(i), new Date(t0 + i)));
    const newer = Array.from(
      { length: 20 },
      (_, i) =>
        testEvent(testUser(i, "0000", { first_name: `Renamed${i}` }), new Date(t0 + 10_000)),
    );
    await kafka.produce(topic, [...first, ...newer].map(toMessage));

    const rejectedEvent = testEvent(
      testUser(500, "0000", { first_name: "Reject Me" }),
      new Date(t0),
    );
    const badEmail = testEvent(testUser(501), new Date(t0));
    const badEmailValue = new TextEncoder().encode(
      JSON.stringify({ ...badEmail, user: { ...badEmail.user, email: "not-an-email" } }),
    );
    const invalid: { key: string; value: Uint8Array | null; stage: string }[] = [
      { key: "k-utf8", value: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), stage: "utf8" },
      { key: "k-json", value: new TextEncoder().encode("{nope"), stage: "json" },
      { key: "k-empty", value: null, stage: "json" },
      { key: badEmail.user.id, value: badEmailValue, stage: "schema" },
      { key: rejectedEvent.user.id, value: toMessage(rejectedEvent).value, stage: "write" },
    ];
    await kafka.produce(topic, invalid.map(({ key, value }) => ({ key, value })));
    const positions = new Map<string, { partition: number; offset: string }>();
    for (const r of await kafka.readTopic(topic)) {
      if (invalid.some((m) => m.key === r.key)) {
        positions.set(r.key, { partition: r.partition, offset: String(r.offset) });
      }
    }

    worker = await startProgram("worker", {
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: dlq,
      KAFKA_GROUP_ID: groupId,
      WAREHOUSE_URL: env.WAREHOUSE_URL,
      WAREHOUSE_SCHEMA: schema,
    });
    await worker.waitForLog((l) => l.msg === "started", 30_000, "the worker to start");

    const count = async () =>
      Number((await sql.unsafe(`select count(*)::int as n from ${schema}.users`))[0]!.n);
    await waitUntil(async () => (await count()) >= 200, 60_000, "200 rows");
    await waitUntil(
      () => kafka.committedUpTo(groupId, topic),
      30_000,
      "the group to commit every offset",
    );
    assert.equal(await count(), 200, "one row per distinct valid id, nothing else");

    const rows = await sql.unsafe(
      `select id, first_name, last_name, address, email, post_code, source, event_id,
              event_time, date_added, updated_at, dob from ${schema}.users`,
    );
    const expected = new Map(first.map((e) => [e.user.id, e]));
    for (const e of newer) expected.set(e.user.id, e);
    for (const row of rows) {
      const e = expected.get(row.id)!;
      assert.ok(e, `unexpected row ${row.id}`);
      assert.equal(row.first_name, e.user.first_name);
      assert.equal(row.last_name, "O'Brien");
      assert.equal(row.address, e.user.address, "tabs and non-ASCII survive COPY");
      assert.equal(row.email, e.user.email);
      assert.equal(row.post_code, e.user.post_code);
      assert.equal(row.source, "webhook");
      assert.equal(row.event_id, e.event_id);
      assert.equal(row.event_time.toISOString(), e.accepted_at);
      assert.equal(row.dob.toISOString(), e.user.dob);
      assert.ok(row.date_added instanceof Date, "date_added is set");
      assert.ok(row.updated_at instanceof Date, "updated_at is set");
    }

    const letters = await kafka.readTopic(dlq);
    assert.equal(letters.length, invalid.length, "exactly the invalid records are dead letters");
    for (const m of invalid) {
      const letter = letters.find((l) => l.key === m.key);
      assert.ok(letter, `dead letter for ${m.key}`);
      assert.deepEqual(letter.value, m.value, `original bytes of ${m.key}`);
      const pos = positions.get(m.key)!;
      assert.equal(letter.headers[DLQ_HEADERS.topic], topic);
      assert.equal(letter.headers[DLQ_HEADERS.partition], String(pos.partition));
      assert.equal(letter.headers[DLQ_HEADERS.offset], pos.offset);
      assert.equal(letter.headers[DLQ_HEADERS.stage], m.stage, `stage of ${m.key}`);
      assert.ok(letter.headers[DLQ_HEADERS.message], "a reason");
      assert.ok(letter.headers[DLQ_HEADERS.className], "an exception class");
    }
    const schemaLetter = letters.find((l) => l.headers[DLQ_HEADERS.stage] === "schema")!;
    assert.equal(schemaLetter.headers[DLQ_HEADERS.issuePaths], "user.email");
    const writeLetter = letters.find((l) => l.headers[DLQ_HEADERS.stage] === "write")!;
    assert.match(writeLetter.headers[DLQ_HEADERS.message]!, /no_rejects/);

    const port = worker.port;
    assert.ok(port, "the worker logged its port");
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    await ready.body?.cancel();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // 220 valid events for 200 ids: each is written, or superseded within its batch.
    const counter = (name: string) =>
      Number(new RegExp(`^${name} (\\d+)$`, "m").exec(metrics)?.[1]);
    assert.equal(
      counter("worker_rows_upserted_total") + counter("worker_records_superseded_total"),
      220,
      metrics,
    );
    assert.match(metrics, /^worker_dead_letters_total\{stage="schema"\} 1$/m);
    assert.match(metrics, /^worker_dead_letters_total\{stage="write"\} 1$/m);
    assert.match(metrics, /^worker_dead_letters_total\{stage="json"\} 2$/m);

    const status = await worker.stop("SIGTERM");
    worker = undefined;
    assert.equal(status.code, 0, "SIGTERM exits 0");
  } finally {
    await worker?.stop("SIGKILL");
    await kafka.admin.deleteTopics([topic, dlq]).catch(() => {});
    await kafka.close();
    await sql.unsafe(`drop schema if exists ${schema} cascade`);
    await sql.end();
  }
});
