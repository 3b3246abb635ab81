/**
 * One broker that hangs stops only its own partitions (a private 3-broker stack, the ingest's
 * path to Kafka through Toxiproxy, the real ingest program):
 *
 * - with the path to one leader blackholed, the users whose partitions other brokers lead are
 *   accepted and on the topic, the hung broker's users are refused, `/readyz` names the stalled
 *   lane without calling the whole ingest stalled, and the lane works again once healed;
 * - with one leader frozen (SIGSTOP), its users are accepted again while it is still frozen,
 *   once Kafka moved its partitions to other leaders: the ingest follows the new leaders.
 */
import assert from "node:assert/strict";
import { Admin } from "@platformatic/kafka";
import { decodeEvent, type UserInput } from "../../shared/event.ts";
import { clientOptions } from "../../shared/kafka/client_options.ts";
import { partitionForKey } from "../../shared/kafka/partition_for_key.ts";
import { privateStack, uniqueName } from "../../stack/harness.ts";
import { testKafka } from "../../testing/kafka.ts";
import { type RunningProgram, startProgram } from "../../testing/program.ts";
import { sampleUser } from "../../testing/users.ts";
import { waitUntil } from "../../testing/wait.ts";
import { signedRequest, TEST_SECRET } from "../../testing/webhook.ts";

const PARTITIONS = 6;
/** How long the path stays blackholed: long enough for the lane to stall (ack timeout 3 s). */
const BLACKHOLE_MS = 15_000;
/** Requests sent while blackholed, at most (the loop also ends with the blackhole). */
const MAX_REQUESTS = 1_000;

Deno.test("a hung leader stalls only its lane, and a moved leader is followed while the old one hangs", async (t) => {
  const stack = await privateStack({ prefix: "lanes", brokers: 3, paths: ["ingest"] });
  const net = stack.network!;
  const kafka = testKafka(stack.env.KAFKA_BROKERS);
  let ingest: RunningProgram | undefined;
  try {
    // Three replicas, as in production and the fault suite: a frozen leader's partitions can
    // then move to another broker.
    const topic = uniqueName("lanes");
    await kafka.admin.createTopics([{
      topic,
      partitions: PARTITIONS,
      replicationFactor: 3,
      configs: { "min.insync.replicas": "2" },
    }], 60_000);
    const leaders = await partitionLeaders(stack.env.KAFKA_BROKERS, topic);
    // `count` users whose partition `node` leads (or, with `other`, does not lead).
    let nextUser = 0;
    const usersOf = (node: number, count: number, other = false) => {
      const users: UserInput[] = [];
      while (users.length < count) {
        const user = sampleUser(nextUser++);
        if ((leaders[partitionForKey(user.id, PARTITIONS)] === node) !== other) users.push(user);
      }
      return users;
    };

    ingest = await startProgram("ingest", {
      KAFKA_BROKERS: net.env("ingest").KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      WEBHOOK_SECRET: TEST_SECRET,
      PULL_ENABLED: "false",
      INGEST_ACK_TIMEOUT_MS: "3000",
    });
    const base = `http://127.0.0.1:${ingest.port}`;
    await ingest.waitForLog((l) => l.msg === "partition leaders", 30_000, "the leaders map");
    const acknowledged: string[] = [];
    const post = async (user: UserInput | undefined) => {
      assert.ok(user, "enough test users");
      const request = await signedRequest(JSON.stringify(user));
      const response = await fetch(`${base}/v1/users`, {
        method: "POST",
        headers: request.headers,
        body: await request.arrayBuffer(),
      });
      const body = await response.json();
      if (response.status === 202) acknowledged.push(...body.event_ids);
      return response.status;
    };
    const readyz = async () => await (await fetch(`${base}/readyz`)).json();

    await t.step("the path to a leader blackholed", async () => {
      // Node 1 is the ingest's first bootstrap broker, the one its client asks for metadata
      // and producer ids: the hardest one to lose. It leads some partitions (2 of 6 as assigned).
      const victim = 1;
      assert.ok(leaders.includes(victim), `node ${victim} leads a partition: ${leaders}`);
      const healthyUsers = usersOf(victim, MAX_REQUESTS, true);
      const victimUsers = usersOf(victim, MAX_REQUESTS + 100);
      assert.equal(await post(healthyUsers[0]), 202);
      assert.equal(await post(victimUsers[0]), 202);

      await net.blackhole({ path: "ingest", to: victim });
      const statuses = { healthy: new Map<number, number>(), victim: new Map<number, number>() };
      const count = (m: Map<number, number>, status: number) =>
        m.set(status, (m.get(status) ?? 0) + 1);
      const end = Date.now() + BLACKHOLE_MS;
      let next = 1;
      let readyDuring: { stalled?: boolean; stalledLanes?: number[] } | undefined;
      // Two senders, each alternating a healthy user and one of the blackholed broker's users.
      const sender = async () => {
        while (Date.now() < end && next < MAX_REQUESTS) {
          const i = next++;
          count(statuses.healthy, await post(healthyUsers[i]));
          count(statuses.victim, await post(victimUsers[i]));
          if (readyDuring === undefined && Date.now() > end - BLACKHOLE_MS / 3) {
            readyDuring = await readyz();
          }
        }
      };
      await Promise.all([sender(), sender()]);
      await net.heal({ path: "ingest", to: victim });

      const text = (m: Map<number, number>) => JSON.stringify(Object.fromEntries(m));
      assert.deepEqual(
        [...statuses.healthy.keys()],
        [202],
        `the other brokers' users were all accepted: ${text(statuses.healthy)}`,
      );
      assert.ok(statuses.healthy.get(202)! >= 20, `enough of them: ${text(statuses.healthy)}`);
      assert.deepEqual(
        [...statuses.victim.keys()],
        [503],
        `the blackholed broker's users were refused: ${text(statuses.victim)}`,
      );
      // The readiness probe's own metadata request goes to node 1 and may hang: look at the
      // lanes.
      assert.equal(readyDuring?.stalled, false, JSON.stringify(readyDuring));
      assert.deepEqual(readyDuring?.stalledLanes, [victim], JSON.stringify(readyDuring));

      // Healed: the lane works again by itself (at the latest once the client's request timeout,
      // 30 s, ends the send that hung).
      await waitUntil(
        async () => await post(victimUsers[next++]) === 202,
        90_000,
        "the healed broker's users to be accepted again",
        { intervalMs: 1_000 },
      );
    });

    await t.step(
      "a leader frozen: its partitions' users accepted at their new leaders",
      async () => {
        // Not node 1, whose metadata the client reads: see docs/ingest.md (send lanes).
        const frozen = leaders.find((l) => l !== 1)!;
        const users = usersOf(frozen, 200);
        assert.equal(await post(users[0]), 202);
        stack.freezeBroker(frozen);
        try {
          let i = 1;
          // Kafka fences the frozen broker and elects new leaders (about 10 s; until then acks=all
          // waits for it as a follower too); the ingest reads them within its refresh and sends
          // there, while the old leader is still frozen.
          await waitUntil(
            async () => await post(users[i++]) === 202,
            45_000,
            `a user of frozen broker ${frozen}'s partitions to be accepted at its new leader`,
            { intervalMs: 500 },
          );
          // Accepted while the send stuck at the frozen broker is still in flight: the ingest
          // did not wait for it (it lasts the client's request timeout, 30 s, or the freeze).
          const ready = await readyz();
          assert.ok(ready.stalledLanes?.includes(frozen), JSON.stringify(ready));
          const now = await partitionLeaders(stack.env.KAFKA_BROKERS, topic);
          assert.ok(!now.includes(frozen), `the partitions moved away from ${frozen}: ${now}`);
        } finally {
          stack.thawBroker(frozen);
        }
        // Back in every ISR before the stack stops: a broker still catching up slowed the
        // others' controlled shutdown past the stack's stop (once in three runs).
        await waitUntil(
          async () =>
            (await partitionMetadata(stack.env.KAFKA_BROKERS, topic)).every((p) =>
              p.isr.length === 3
            ),
          60_000,
          `broker ${frozen} back in every ISR`,
          { intervalMs: 500 },
        );
      },
    );

    const records = await kafka.readTopic(topic, { timeoutMs: 60_000 });
    const written = new Set(records.map((r) => {
      const d = decodeEvent(r.value);
      assert.ok(d.ok);
      // The lanes hand the client the key's hash: each user is in the partition it always was.
      assert.equal(r.partition, partitionForKey(r.key, PARTITIONS), `partition of ${r.key}`);
      return d.event.event_id;
    }));
    const missing = acknowledged.filter((id) => !written.has(id));
    assert.deepEqual(missing, [], "every acknowledged event is on the topic");
  } finally {
    await net.healAll().catch(() => {});
    await ingest?.stop();
    await stack.stop();
  }
});

/** Each partition of `topic`, from fresh metadata (through node 1, which is never frozen). */
async function partitionMetadata(
  brokers: string,
  topic: string,
): Promise<{ leader: number; isr: number[] }[]> {
  const admin = new Admin(
    clientOptions({ clientId: "test", brokers: brokers.split(","), summary: "" }, "-leaders"),
  );
  try {
    const meta = await admin.metadata({ topics: [topic], forceUpdate: true });
    return meta.topics.get(topic)!.partitions;
  } finally {
    await admin.close();
  }
}

/** The node id leading each partition of `topic`. */
async function partitionLeaders(brokers: string, topic: string): Promise<number[]> {
  return (await partitionMetadata(brokers, topic)).map((p) => p.leader);
}
