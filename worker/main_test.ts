/**
 * `worker/main.ts` with the `worker` task's flags: the permissions it declares and the exits
 * it promises, for what the S3 staging added and for a Kafka or warehouse address that accepts
 * connections and never answers.
 */
import assert from "node:assert/strict";
import { failedStart, startProgram } from "../testing/program.ts";
import { silentListener } from "../testing/silent_listener.ts";
import { taskArgs } from "../stack/programs.ts";
import { workerConfigSchema } from "./config.ts";

Deno.test("the worker task's --allow-env lists every variable the worker reads", () => {
  const flags = taskArgs("worker");
  const allowEnv = flags.find((f) => f.startsWith("--allow-env="))?.slice(12).split(",") ?? [];
  for (const key of Object.keys(workerConfigSchema.shape)) {
    assert.ok(allowEnv.includes(key), `--allow-env includes ${key}`);
  }
  assert.ok(!flags.includes("-A") && !flags.includes("--allow-all"));
});

Deno.test("the worker exits 2 and names the variables when S3 staging is set up wrongly", async () => {
  const worker = await startProgram("worker", {
    KAFKA_BROKERS: "127.0.0.1:9",
    WAREHOUSE_URL: "postgres://u@127.0.0.1:9/user_data",
    WAREHOUSE_S3_BUCKET: "user-pipeline-staging-x",
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "do-not-log-me",
  }, { listening: false });
  const status = await worker.exited;
  assert.equal(status.code, 2);
  const line = worker.logs.find((l) => l.msg === "bad configuration");
  assert.ok(line, JSON.stringify(worker.logs));
  assert.deepEqual(
    (line.problems as { variable: string }[]).map((p) => p.variable).sort(),
    ["AWS_REGION", "WAREHOUSE_S3_BUCKET"],
  );
  assert.ok(!JSON.stringify(worker.logs).includes("do-not-log-me"), "no secret in the logs");
});

Deno.test("a broker that accepts and never answers ends the worker's start with exit 1 and one line naming KAFKA_BROKERS", async () => {
  await using kafka = silentListener();
  // The warehouse is silent too: it would fail after its 10 s connect timeout, Kafka first.
  await using warehouse = silentListener();
  const worker = await startProgram("worker", {
    KAFKA_BROKERS: kafka.address,
    KAFKA_START_TIMEOUT_MS: "2000",
    WAREHOUSE_URL: `postgres://u:do-not-log-me@${warehouse.address}/user_data`,
  }, { listening: false });
  // Far above the bound (2 s and the probe): without it the worker waited for minutes.
  const error = await failedStart(worker, 60_000);
  const logs = JSON.stringify(worker.logs);
  assert.equal(error.msg, "cannot start");
  assert.equal(
    error.error,
    `Kafka at ${kafka.address} accepted the connection but did not answer within 2 s: ` +
      "check KAFKA_BROKERS (is it a Kafka listener?)",
  );
  assert.ok(kafka.accepted() > 0, "the worker connected to the silent broker");
  assert.ok(!logs.includes("do-not-log-me"), "no secret in the logs");
});

Deno.test("a warehouse that accepts and never answers ends the worker's start with exit 1 and one line naming WAREHOUSE_URL", async () => {
  await using warehouse = silentListener();
  // Kafka is silent too, with a longer bound: the warehouse's 10 s connect timeout ends it.
  await using kafka = silentListener();
  const worker = await startProgram("worker", {
    KAFKA_BROKERS: kafka.address,
    KAFKA_START_TIMEOUT_MS: "120000",
    WAREHOUSE_URL: `postgres://u:do-not-log-me@${warehouse.address}/user_data`,
  }, { listening: false });
  const error = await failedStart(worker, 60_000);
  const logs = JSON.stringify(worker.logs);
  assert.equal(error.msg, "cannot start");
  assert.equal(
    error.error,
    `The warehouse at ${warehouse.address} accepted the connection but did not answer within ` +
      "10 s: check WAREHOUSE_URL (is it PostgreSQL or Redshift?)",
  );
  assert.ok(warehouse.accepted() > 0, "the worker connected to the silent warehouse");
  assert.ok(!logs.includes("do-not-log-me"), "no secret in the logs");
});

Deno.test("a taken WORKER_PORT ends the worker with exit 1 and one line naming WORKER_PORT, no stack trace", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  const worker = await startProgram("worker", {
    KAFKA_BROKERS: "127.0.0.1:9",
    WAREHOUSE_URL: "postgres://u@127.0.0.1:9/user_data",
    WORKER_PORT: String(port),
  }, { listening: false });
  const status = await worker.exited;
  assert.equal(status.code, 1, JSON.stringify(worker.logs));
  assert.deepEqual(worker.logs.map((l) => [l.level, l.msg]), [[
    "error",
    `Cannot listen on 127.0.0.1:${port}: the port is taken by another process; set WORKER_PORT ` +
    "to a free port (0 picks one)",
  ]]);
});

Deno.test("a PG variable postgres.js would misread ends the worker's start with exit 2 naming it", async () => {
  const worker = await startProgram("worker", {
    KAFKA_BROKERS: "127.0.0.1:9",
    WAREHOUSE_URL: "postgres://u@127.0.0.1:9/user_data",
    PGMAX_PIPELINE: "-1",
  }, { listening: false });
  const status = await worker.exited;
  assert.equal(status.code, 2, JSON.stringify(worker.logs));
  const line = worker.logs.find((l) => l.msg === "bad configuration");
  assert.ok(line, JSON.stringify(worker.logs));
  assert.deepEqual((line.problems as { variable: string }[]).map((p) => p.variable), [
    "PGMAX_PIPELINE",
  ]);
});
