/**
 * `ingest/main.ts` as a process, with the `ingest` task's permission flags: it starts on a
 * port of its own choosing, and SIGTERM while requests are in flight loses no event it
 * acknowledged.
 */
import assert from "node:assert/strict";
import { decodeEvent } from "../shared/event.ts";
import { sharedStack } from "../stack/harness.ts";
import { createTestTopic, readTopic, testKafka } from "./_kafka_testing.ts";
import { sampleUser, signedRequest, TEST_SECRET } from "./_testing.ts";
import { ingestConfigSchema } from "./config.ts";
import { ingestTaskFlags, spawnIngest } from "./spawn_ingest.ts";

Deno.test("the ingest task's --allow-env lists every variable the ingest reads", async () => {
  const flags = await ingestTaskFlags();
  const allowEnv = flags.find((f) => f.startsWith("--allow-env="))?.slice(12).split(",") ?? [];
  for (const key of Object.keys(ingestConfigSchema.shape)) {
    assert.ok(allowEnv.includes(key), `--allow-env includes ${key}`);
  }
  assert.ok(!flags.includes("-A") && !flags.includes("--allow-all"));
});

for (const worker of ["false", "true"]) {
  Deno.test(`SIGTERM while requests are in flight loses no acknowledged event and exits 0 (INGEST_PRODUCER_WORKER=${worker})`, async () => {
    const env = await sharedStack();
    const kafka = testKafka(env.KAFKA_BROKERS);
    const topic = await createTestTopic(kafka, "ingest_sigterm");
    const ingest = await spawnIngest({
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      KAFKA_TOPIC: topic.topic,
      INGEST_HOST: "127.0.0.1",
      WEBHOOK_SECRET: TEST_SECRET,
      PULL_ENABLED: "false",
      // A longer linger keeps messages queued in the batcher when the signal arrives.
      INGEST_LINGER_MS: "50",
      INGEST_PRODUCER_WORKER: worker,
    });
    try {
      const url = `http://127.0.0.1:${ingest.port}/v1/users`;
      const acknowledged: string[] = [];
      const statuses = new Map<string, number>();
      let signalled = false;
      const sender = async () => {
        // Bounded: each sender stops at its first failure or after 100 requests.
        for (let i = 0; i < 100; i++) {
          const batch = [sampleUser(), sampleUser(), sampleUser()];
          const request = await signedRequest(JSON.stringify(batch));
          let status: string;
          try {
            const response = await fetch(new Request(url, request));
            status = String(response.status);
            const body = await response.json();
            if (response.status === 202) acknowledged.push(...body.event_ids);
          } catch {
            status = "connection closed";
          }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (acknowledged.length >= 150 && !signalled) {
            signalled = true;
            ingest.kill("SIGTERM");
          }
          if (status !== "202") return;
        }
      };
      await Promise.all(Array.from({ length: 20 }, sender));
      assert.ok(signalled, `the test sent SIGTERM (statuses: ${JSON.stringify([...statuses])})`);
      const status = await ingest.status;
      assert.equal(status.code, 0, JSON.stringify(ingest.logs.slice(-5)));
      assert.equal(ingest.stdout(), "", "nothing on stdout");
      assert.ok(ingest.logs.some((l) => l.msg === "stopped"));
      for (const s of statuses.keys()) {
        assert.ok(["202", "503", "connection closed"].includes(s), `unexpected answer ${s}`);
      }

      const records = await readTopic(kafka, topic.topic);
      const written = new Set(records.map((r) => {
        const d = decodeEvent(r.value);
        assert.ok(d.ok);
        return d.event.event_id;
      }));
      const lost = acknowledged.filter((id) => !written.has(id));
      assert.deepEqual(
        lost,
        [],
        `${lost.length} of ${acknowledged.length} acknowledged events lost`,
      );
    } finally {
      try {
        ingest.kill("SIGKILL");
      } catch { /* exited */ }
      await ingest.status;
      await topic.delete();
    }
  });
}

Deno.test("a bad configuration stops the start with exit 1 and a line naming the variable", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ KAFKA_BROKERS: "nohost", INGEST_ALLOW_UNSIGNED: "true" }, /Cannot parse KAFKA_BROKERS/],
    [{ KAFKA_BROKERS: "127.0.0.1:9", WEBHOOK_SECRET: "plain" }, /Cannot parse WEBHOOK_SECRET/],
    [
      { KAFKA_BROKERS: "127.0.0.1:9", INGEST_ALLOW_UNSIGNED: "true", PULL_SCHEDULE: "61 * * * *" },
      /Cannot parse PULL_SCHEDULE/,
    ],
  ];
  for (const [env, expected] of cases) {
    await assert.rejects(spawnIngest(env, 30_000), (err: Error) => {
      assert.match(err.message, /ingest exited \(code 1\) before listening/);
      assert.match(err.message, expected);
      return true;
    });
  }
});
