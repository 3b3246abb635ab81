/**
 * Proves the test harness: real Apache Kafka and real PostgreSQL, reached from Deno through
 * kafkajs and postgres.js. If the broker or the database is broken, these tests fail.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";
import { fixKafkajsRequestQueue } from "../shared/kafkajs_fix.ts";
import { createTopicsAndWait, privateStack, sharedStack, uniqueName } from "../stack/harness.ts";
import { readState, STACK_TOPICS } from "../stack/stack.ts";

function kafkaFor(brokers: string): Kafka {
  fixKafkajsRequestQueue();
  return new Kafka({
    clientId: "harness-test",
    brokers: brokers.split(","),
    logLevel: logLevel.NOTHING,
  });
}

Deno.test("the stack's Kafka creates a topic, takes idempotent writes and serves a consumer group", async () => {
  const env = await sharedStack();
  const kafka = kafkaFor(env.KAFKA_BROKERS);
  const topic = uniqueName("harness");
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: uniqueName("harness_group") });
  await admin.connect();
  try {
    await createTopicsAndWait(admin, [{ topic, numPartitions: 3 }]);
    await producer.connect();
    const sent = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    await producer.send({ topic, acks: -1, messages: sent });

    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = new Map<string, string>();
    const { promise: allReceived, resolve } = Promise.withResolvers<void>();
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
        for (const m of batch.messages) {
          received.set(m.key!.toString(), m.value!.toString());
          resolveOffset(m.offset);
        }
        await commitOffsetsIfNecessary();
        if (received.size === sent.length) resolve();
      },
    });
    await withDeadline(allReceived, 30_000, "consumer did not receive every message");
    assert.deepEqual(
      [...received.entries()].sort(),
      sent.map((m) => [m.key, m.value]).sort(),
    );
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
});

Deno.test("the stack has the pipeline's topics with at least 6 partitions", async () => {
  const env = await sharedStack();
  const admin = kafkaFor(env.KAFKA_BROKERS).admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: STACK_TOPICS.map((t) => t.topic) });
    for (const t of meta.topics) {
      assert.ok(t.partitions.length >= 6, `${t.name} has ${t.partitions.length} partitions`);
    }
  } finally {
    await admin.disconnect();
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
    const admin = kafkaFor(stack.env.KAFKA_BROKERS).admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: ["user_created"] });
      for (const p of meta.topics[0]!.partitions) assert.equal(p.replicas.length, 3);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: "user_created", configNames: ["min.insync.replicas"] }],
      });
      assert.equal(configs.resources[0]!.configEntries[0]!.configValue, "2");
    } finally {
      await admin.disconnect();
    }
    // The private stack can be broken and mended: stop one broker, the cluster still answers.
    await stack.stopBroker(3, { kill: true });
    const state = await readState(stack.state.name);
    assert.ok(state, "state file exists");
  } finally {
    await stack.stop();
  }
});

async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
