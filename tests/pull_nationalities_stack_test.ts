/**
 * The pull job end to end with version 2: the repository's randomuser.me stand-in (the API 1.4
 * shape, every nationality the API serves) → the ingest's pull → Kafka → the worker → the table,
 * where every user has its `nat` and `cell`.
 */
import assert from "node:assert/strict";
import { RANDOMUSER_NATIONALITIES } from "../faults/randomuser_nationalities.ts";
import { startRandomUserStandin } from "../faults/randomuser_standin.ts";
import { sharedStack } from "../stack/harness.ts";
import { setupPipeline } from "../testing/pipeline.ts";
import { complaints, type RunningProgram, startProgram } from "../testing/program.ts";
import { waitUntil } from "../testing/wait.ts";
import { signedRequest, TEST_SECRET } from "../testing/webhook.ts";

Deno.test("pulled users of every nationality arrive in the table with nat and cell", async () => {
  const nationalities = Object.keys(RANDOMUSER_NATIONALITIES);
  assert.equal(nationalities.length, 21, "the nationalities randomuser.me serves");
  const standin = startRandomUserStandin({ results: nationalities.length * 2, cycle: ["good"] });
  const p = await setupPipeline(await sharedStack(), "pull_nat", 3);
  const programs: RunningProgram[] = [];
  try {
    const worker = await startProgram("worker", { ...p.workerEnv, WORKER_PORT: "0" });
    programs.push(worker);
    const ingest = await startProgram("ingest", {
      KAFKA_BROKERS: p.workerEnv.KAFKA_BROKERS!,
      KAFKA_TOPIC: p.topic,
      INGEST_HOST: "127.0.0.1",
      INGEST_PORT: "0",
      WEBHOOK_SECRET: TEST_SECRET,
      PULL_ENABLED: "false",
      RANDOMUSER_URL: standin.url,
    });
    programs.push(ingest);
    const response = await fetch(`http://127.0.0.1:${ingest.port}/v1/pull`, {
      method: "POST",
      headers: (await signedRequest("")).headers,
    });
    const run = await response.json();
    assert.equal(response.status, 200, JSON.stringify(run));
    const served = standin.takeServed();
    assert.equal(served.length, nationalities.length * 2);
    await waitUntil(async () => (await p.count()) === served.length, 60_000, "the pulled rows");
    const rows = await p.sql.unsafe(
      `SELECT id, nat, cell, source FROM ${p.schema}.users ORDER BY id`,
    );
    assert.deepEqual(rows.map((r) => r.id).toSorted(), served.toSorted());
    for (const r of rows) {
      assert.equal(r.source, "randomuser");
      assert.ok(r.nat && nationalities.includes(r.nat), `${r.id}: nat ${r.nat}`);
      assert.equal(r.cell, RANDOMUSER_NATIONALITIES[r.nat]!.cell, `${r.id}: cell of ${r.nat}`);
    }
    assert.deepEqual(new Set(rows.map((r) => r.nat)), new Set(nationalities), "every one");
    assert.deepEqual(complaints(worker.logs), []);
  } finally {
    for (const program of programs) await program.stop();
    await standin.close();
    await p.close();
  }
});
