/**
 * The console's dead letters against real Kafka and a real worker: groups by stage and reason,
 * a group's records, and a re-drive of a group (dry run, then the run) through the same code
 * and consumer group as `deno task redrive`.
 */
import assert from "node:assert/strict";
import { redriveGroupId, REDRIVEN_FROM_HEADER } from "../shared/redrive/redrive_filter.ts";
import { sharedStack } from "../stack/harness.ts";
import { setupPipeline } from "../testing/pipeline.ts";
import { startProgram } from "../testing/program.ts";
import { seededEvent, testEvent, testUser, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";

const TOKEN = "console-stack-test-token-0123";

Deno.test("the console groups real dead letters by stage and reason and re-drives a group after a dry run", async () => {
  const stack = await sharedStack();
  const p = await setupPipeline(stack, "c_dlq", 2);
  const worker = await startProgram("worker", p.workerEnv);
  const console = await startProgram("console", {
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    KAFKA_TOPIC: p.topic,
    KAFKA_DLQ_TOPIC: p.dlq,
    KAFKA_GROUP_ID: p.groupId,
    CONSOLE_TOKEN: TOKEN,
  });
  const base = `http://127.0.0.1:${console.port}`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const answers: string[] = [];
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: auth });
    assert.equal(res.status, 200, path);
    const text = await res.text();
    answers.push(text);
    return JSON.parse(text);
  };
  const post = async (body: unknown) => {
    const res = await fetch(`${base}/api/redrive`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  try {
    const badEmail = [1, 2, 3].map((i) =>
      toMessage(testEvent(testUser(i, "c0dead00", { email: "not an email" }), new Date()))
    );
    await p.kafka.produce(p.topic, [
      ...badEmail,
      { key: "k", value: new TextEncoder().encode("{") },
      toMessage(seededEvent(1, "c0dead01")),
    ]);
    await waitUntil(() => p.caughtUp(), 60_000, "the worker to commit every record");

    const { groups, read, total } = await get("/api/dead-letters");
    assert.equal(read, 4);
    assert.equal(total, 4);
    assert.deepEqual(
      groups.map((g: { stage: { text: string }; reason: { text: string }; count: number }) => [
        g.stage.text,
        g.reason.text.replace(/:.*/s, ""),
        g.count,
      ]),
      [["schema", "user.email", 3], ["json", "Message value is not JSON", 1]],
    );
    const schema = groups[0];
    assert.equal(schema.reason.text, "user.email: Invalid email address");

    const page = await get(`/api/dead-letters/records?group=${schema.id}&page=0`);
    assert.equal(page.total, 3);
    const times = page.items.map((d: { time: string }) => d.time);
    assert.deepEqual(times, times.toSorted().toReversed(), "newest first");
    assert.equal(page.items[0].origin.topic, p.topic);
    assert.ok(
      page.items.every((d: { record: { key: { text: string } } }) =>
        /^c0dead00-/.test(d.record.key.text)
      ),
    );

    // The records are still invalid: without a worker they stay on the topic, not back here.
    await worker.stop();
    // A re-drive without a dry run is refused; the dry run counts; the run moves.
    assert.equal((await post({ scope: "group", group: schema.id, dryRun: false })).status, 428);
    const dry = await post({ scope: "group", group: schema.id, dryRun: true });
    assert.equal(dry.status, 200);
    assert.deepEqual([dry.body.moved, dry.body.skipped], [3, 1]);
    const filter = { stages: ["schema"], reasonContains: "", reasonIs: schema.reason.text };
    assert.equal(dry.body.groupId, redriveGroupId(p.groupId, filter), "deno task redrive's group");
    const run = await post({
      scope: "group",
      group: schema.id,
      dryRun: false,
      confirm: dry.body.confirm,
    });
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.equal(run.body.moved, 3);

    const onTopic = await p.kafka.readTopic(p.topic);
    const back = onTopic.filter((r) => r.headers[REDRIVEN_FROM_HEADER] !== undefined);
    assert.equal(back.length, 3, "three dead letters are back on the topic");
    assert.deepEqual(
      back.map((r) => r.value).toSorted(),
      badEmail.map((m) => m.value).toSorted(),
      "with their original bytes",
    );
    const again = await post({ scope: "group", group: schema.id, dryRun: true });
    assert.equal(again.body.moved, 0, "the group's progress is committed");
    answers.push(JSON.stringify(await get("/api/snapshot")));
    assert.ok(!answers.join("\n").includes(TOKEN), "the token never comes back in an answer");
  } finally {
    await console.stop();
    await worker.stop();
    await p.close();
  }
});
