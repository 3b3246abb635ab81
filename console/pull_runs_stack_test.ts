/** The ingest's pull runs, through the console, from a real ingest and a stand-in randomuser.me. */
import assert from "node:assert/strict";
import { sharedStack } from "../stack/harness.ts";
import { testKafka } from "../testing/kafka.ts";
import { startProgram } from "../testing/program.ts";
import { randomUserResult } from "../testing/users.ts";

Deno.test("the console lists a real ingest's pull runs, newest first", async () => {
  const stack = await sharedStack();
  const kafka = testKafka(stack.KAFKA_BROKERS);
  const topic = await kafka.createTopic("c_pull", 1);
  const randomUser = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      Response.json({
        results: [randomUserResult(crypto.randomUUID())],
        info: { results: 1 },
      }),
  );
  const ingest = await startProgram("ingest", {
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    KAFKA_TOPIC: topic,
    INGEST_ALLOW_UNSIGNED: "true",
    PULL_ENABLED: "false",
    RANDOMUSER_URL: `http://127.0.0.1:${randomUser.addr.port}/api/`,
  });
  const ingestUrl = `http://127.0.0.1:${ingest.port}`;
  const console = await startProgram("console", {
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    KAFKA_TOPIC: topic,
    CONSOLE_INGEST_URLS: ingestUrl,
  });
  try {
    for (let i = 0; i < 2; i++) {
      const run = await fetch(`${ingestUrl}/v1/pull`, { method: "POST", body: "" });
      assert.equal(run.status, 200, await run.text());
    }
    const res = await fetch(`http://127.0.0.1:${console.port}/api/pull-runs`);
    const body = await res.json();
    assert.deepEqual(body.instances, [{ url: ingestUrl, ok: true }]);
    assert.deepEqual(
      body.runs.map((r: { outcome: string; produced: number }) => [r.outcome, r.produced]),
      [
        ["ok", 1],
        ["ok", 1],
      ],
    );
    assert.ok(body.runs[0].started_at >= body.runs[1].started_at, "newest first");
  } finally {
    await console.stop();
    await ingest.stop();
    await randomUser.shutdown();
    await kafka.deleteTopics([topic]);
  }
});
