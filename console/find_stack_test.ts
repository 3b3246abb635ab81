/**
 * Finding an event against real Kafka, a real worker and PostgreSQL: written, superseded,
 * dead-lettered (then re-driven by the re-drive's own code) and not yet written, by user id,
 * event id and trace id; a search's progress streamed as JSON lines.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../shared/logger.ts";
import { redriveGroupId } from "../shared/redrive/redrive_filter.ts";
import { runRedrive } from "../shared/redrive/run_redrive.ts";
import { sharedStack } from "../stack/harness.ts";
import { setupPipeline } from "../testing/pipeline.ts";
import { startProgram } from "../testing/program.ts";
import { testEvent, testUser, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

Deno.test("the console tells an event's path from real Kafka and the warehouse", async () => {
  const stack = await sharedStack();
  const p = await setupPipeline(stack, "c_find", 3);
  const t0 = Date.now() - 60_000;
  const a = testUser(1, "c0f1d000");
  const older = testEvent(a, new Date(t0));
  const newer = testEvent(a, new Date(t0 + 1_000));
  const bad = testEvent(testUser(2, "c0f1d000", { email: "nope" }), new Date(t0));
  const late = testEvent(testUser(3, "c0f1d000"), new Date(t0));
  const traced = (m: { key: string; value: Uint8Array }) => ({
    ...m,
    headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
  });
  const console = await startProgram("console", {
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    KAFKA_TOPIC: p.topic,
    KAFKA_DLQ_TOPIC: p.dlq,
    KAFKA_GROUP_ID: p.groupId,
    CONSOLE_WAREHOUSE_URL: stack.WAREHOUSE_URL,
    WAREHOUSE_SCHEMA: p.schema,
  });
  const find = async (query: string) => {
    const res = await fetch(`http://127.0.0.1:${console.port}/api/find?${query}`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.ok(!text.includes(stack.WAREHOUSE_URL), "the warehouse URL never reaches the page");
    return JSON.parse(text);
  };
  try {
    await p.kafka.produce(p.topic, [
      traced(toMessage(older)),
      traced(toMessage(newer)),
      toMessage(bad),
    ]);
    const worker = await startProgram("worker", p.workerEnv);
    try {
      await waitUntil(() => p.caughtUp(), 60_000, "the worker to commit every record");
    } finally {
      await worker.stop();
    }
    await p.kafka.produce(p.topic, [toMessage(late)]);

    const byUser = await find(`user_id=${a.id}`);
    assert.equal(byUser.topicScan.partitions.length, 1, "one partition: the key's");
    assert.deepEqual(
      byUser.found.map((
        f: { accepted: { event_id: { text: string } }; path: { kind: string } },
      ) => [
        f.accepted.event_id.text,
        f.path.kind,
      ]),
      [[newer.event_id, "written"], [older.event_id, "superseded"]],
    );
    const [row] = await p.sql.unsafe(
      `select date_added, updated_at from ${p.schema}.users where id = $1`,
      [a.id],
    );
    assert.deepEqual(byUser.found[0].path, {
      kind: "written",
      date_added: (row!.date_added as Date).toISOString(),
      updated_at: (row!.updated_at as Date).toISOString(),
    });
    assert.equal(byUser.found[1].path.by.event_id, newer.event_id, "which newer event won");
    assert.equal(byUser.found[0].accepted.topic, p.topic);
    assert.equal(byUser.found[0].accepted.source.text, "webhook");

    const byEvent = await find(`event_id=${bad.event_id}`);
    assert.equal(byEvent.found.length, 1);
    assert.equal(byEvent.found[0].path.kind, "dead-lettered");
    assert.equal(byEvent.found[0].path.stage.text, "schema");
    assert.equal(byEvent.found[0].path.reason.text, "user.email: Invalid email address");
    assert.equal(byEvent.found[0].path.redriven, null, "not re-driven yet");

    // `deno task redrive`'s code moves it back; the worker is stopped, so the copy waits.
    const filter = { stages: ["schema"], reasonContains: "" };
    const moved = await runRedrive(p.kafka.connection, {
      dlqTopic: p.dlq,
      topic: p.topic,
      groupId: redriveGroupId(p.groupId, filter),
      filter,
      dryRun: false,
      timeoutMs: 60_000,
    }, silentLogger);
    assert.deepEqual(moved, { moved: 1, skipped: 0 });
    const deadLetter = byEvent.found[0].path;
    for (const query of [`event_id=${bad.event_id}`, `user_id=${bad.user.id}`]) {
      const redriven = await find(query);
      assert.deepEqual(
        redriven.found.map((f: { path: { kind: string } }) => f.path.kind),
        ["waiting", "dead-lettered"],
        `${query}: the copy, then the original`,
      );
      const [copy, original] = redriven.found;
      assert.equal(
        copy.accepted.redriven_from.text,
        `${p.dlq}/${deadLetter.partition}/${deadLetter.offset}`,
      );
      assert.equal(copy.accepted.partition, original.accepted.partition, "the key's partition");
      assert.deepEqual(original.path, {
        ...deadLetter,
        redriven: { partition: copy.accepted.partition, offset: copy.accepted.offset },
      });
    }

    // The page's form asks for JSON lines: progress while the scan runs, then the answer.
    const streamed = await fetch(
      `http://127.0.0.1:${console.port}/api/find?user_id=${a.id}`,
      { headers: { accept: "application/x-ndjson" } },
    );
    const lines = (await streamed.text()).split("\n").filter((l) => l !== "").map((l) =>
      JSON.parse(l)
    );
    assert.ok(
      lines.length >= 2 && lines.slice(0, -1).every((l) => "progress" in l),
      "progress first",
    );
    assert.deepEqual(lines[0].progress.phase, "topic");
    assert.deepEqual(lines.at(-1).result.found, byUser.found, "then the answer, as a plain GET's");

    const waiting = await find(`user_id=${late.user.id}`);
    assert.deepEqual(waiting.found[0].path.kind, "waiting");
    assert.equal(waiting.found[0].path.recordsAhead, 0, "the next record to write");

    const byTrace = await find(`trace_id=${TRACE}`);
    assert.equal(byTrace.found.length, 2);
    assert.equal(byTrace.topicScan.partitions.length, 3, "every partition");
  } finally {
    await console.stop();
    await p.close();
  }
});
