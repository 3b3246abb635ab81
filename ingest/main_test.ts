/**
 * `ingest/main.ts` with the `ingest` task's flags, against what needs no stack: a Kafka address
 * that accepts connections and never answers.
 */
import assert from "node:assert/strict";
import { failedStart, startProgram } from "../testing/program.ts";
import { silentListener } from "../testing/silent_listener.ts";

for (const producerWorker of ["false", "true"]) {
  Deno.test(`a broker that accepts and never answers ends the ingest's start with exit 1 and one line naming KAFKA_BROKERS (INGEST_PRODUCER_WORKER=${producerWorker})`, async () => {
    await using silent = silentListener();
    const ingest = await startProgram("ingest", {
      KAFKA_BROKERS: silent.address,
      KAFKA_START_TIMEOUT_MS: "2000",
      INGEST_ALLOW_UNSIGNED: "true",
      INGEST_PRODUCER_WORKER: producerWorker,
      PULL_ENABLED: "false",
    }, { listening: false });
    // Far above the bound (2 s and the probe): without it the ingest waited for minutes.
    const error = await failedStart(ingest, 60_000);
    assert.equal(
      error.msg,
      `Cannot use Kafka: Kafka at ${silent.address} accepted the connection but did not answer ` +
        "within 2 s: check KAFKA_BROKERS (is it a Kafka listener?)",
    );
    assert.ok(silent.accepted() > 0, "the ingest connected to the silent listener");
    assert.ok(!ingest.logs.some((l) => l.msg === "listening"), "it never served HTTP");
  });
}
