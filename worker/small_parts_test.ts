import assert from "node:assert/strict";
import { ConfigError } from "../shared/config.ts";
import { createRegistry } from "../shared/metrics.ts";
import { POSTGRES_NUMERIC_ENV } from "../shared/postgres_env.ts";
import { backoffDelay } from "./batch/backoff_delay.ts";
import { loadWorkerConfig, workerConfigSchema } from "./config.ts";
import { DLQ_HEADERS, isErrorHeader, toDeadLetter } from "./batch/dead_letter.ts";
import { createOpsHandler } from "./ops_handler.ts";
import { classifyWriteError } from "./warehouse/write_error.ts";
import { message } from "../testing/fakes.ts";

const minimal: Record<string, string> = {
  KAFKA_BROKERS: "127.0.0.1:9092",
  WAREHOUSE_URL: "postgres://u@127.0.0.1:5432/user_data",
};

Deno.test("loadWorkerConfig() applies the documented defaults", () => {
  const c = loadWorkerConfig((k) => minimal[k]);
  assert.equal(c.KAFKA_TOPIC, "user_created");
  assert.equal(c.KAFKA_DLQ_TOPIC, "user_created.dlq");
  assert.equal(c.KAFKA_GROUP_ID, "user-pipeline-worker");
  assert.equal(c.WAREHOUSE_DIALECT, "postgres");
  assert.equal(c.WAREHOUSE_SCHEMA, "public");
  assert.equal(c.WORKER_PORT, 9090);
  assert.equal(c.LOG_LEVEL, "info");
  assert.deepEqual(c.KAFKA_BROKERS, ["127.0.0.1:9092"]);
});

Deno.test("loadWorkerConfig() names every bad variable at once", () => {
  const env: Record<string, string> = {
    WAREHOUSE_URL: "mysql://x",
    WAREHOUSE_DIALECT: "oracle",
    WAREHOUSE_SCHEMA: "Robert'); drop",
    WORKER_PORT: "99999",
  };
  let err: unknown;
  try {
    loadWorkerConfig((k) => env[k]);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, "throws a ConfigError");
  assert.deepEqual(
    err.problems.map((p) => p.variable).sort(),
    ["KAFKA_BROKERS", "WAREHOUSE_DIALECT", "WAREHOUSE_SCHEMA", "WAREHOUSE_URL", "WORKER_PORT"],
  );
});

Deno.test("workerConfigSchema's keys and the numeric PG variables are the variables the worker reads", () => {
  const read: string[] = [];
  loadWorkerConfig((k) => (read.push(k), minimal[k]));
  assert.deepEqual(
    read.sort(),
    [...Object.keys(workerConfigSchema.shape), ...Object.keys(POSTGRES_NUMERIC_ENV)].sort(),
  );
});

Deno.test("classifyWriteError() rejects data and constraint errors, retries the rest", () => {
  assert.equal(classifyWriteError({ code: "22001" }), "reject");
  assert.equal(classifyWriteError({ code: "23514" }), "reject");
  assert.equal(classifyWriteError({ code: "23502" }), "reject");
  assert.equal(classifyWriteError({ code: "23505" }), "retry", "a concurrent insert");
  assert.equal(classifyWriteError({ code: "40001" }), "retry");
  assert.equal(classifyWriteError({ code: "57P01" }), "retry");
  assert.equal(classifyWriteError({ code: "ECONNREFUSED" }), "retry");
  assert.equal(classifyWriteError({ code: "CONNECTION_CLOSED" }), "retry");
  assert.equal(
    classifyWriteError({ code: "XX000", message: "1023 Serializable isolation violation" }),
    "retry",
  );
  assert.equal(classifyWriteError(new Error("unknown")), "retry");
});

Deno.test("classifyWriteError() rejects Redshift's COPY load errors, retries its S3 errors", () => {
  const load = "Load into table 'users_stage_0123456789ab' failed. " +
    "Check 'sys_load_error_detail' system table for details.";
  assert.equal(classifyWriteError({ code: "XX000", message: load }), "reject");
  assert.equal(
    classifyWriteError({
      code: "XX000",
      message: "S3ServiceException:Access Denied,Status 403,Error AccessDenied",
    }),
    "retry",
    "the role cannot read the bucket: not about the rows",
  );
  assert.equal(classifyWriteError({ message: load }), "retry", "only with Redshift's XX000");
});

Deno.test("backoffDelay() doubles up to the cap, with jitter in the upper half", () => {
  const opts = { minMs: 100, maxMs: 1_000 };
  assert.equal(backoffDelay(0, { ...opts, random: () => 0 }), 50);
  assert.equal(backoffDelay(0, { ...opts, random: () => 1 }), 100);
  assert.equal(backoffDelay(3, { ...opts, random: () => 1 }), 800);
  assert.equal(backoffDelay(50, { ...opts, random: () => 1 }), 1_000);
  assert.equal(backoffDelay(50, { ...opts, random: () => 0 }), 500);
});

Deno.test("toDeadLetter() keeps the original record and adds Kafka Connect error headers", () => {
  const m = message(42, "{bad", "key-1");
  const d = toDeadLetter(m, {
    stage: "schema",
    reason: "user.email: Invalid email address",
    issues: [{ path: "user.email", message: "Invalid email address" }],
  }, new Date("2026-01-01T00:00:00.000Z"));
  assert.equal(d.value, m.value);
  assert.equal(d.key, m.key);
  assert.deepEqual(d.headers, {
    traceparent: "00-abc-def-01",
    "__connect.errors.topic": "user_created",
    "__connect.errors.partition": "2",
    "__connect.errors.offset": "42",
    "__connect.errors.stage": "schema",
    "__connect.errors.exception.class.name": "ValidationError",
    "__connect.errors.exception.message": "user.email: Invalid email address",
    "user_pipeline.errors.issue_paths": "user.email",
    "user_pipeline.errors.issues": '[{"path":"user.email","message":"Invalid email address"}]',
    "user_pipeline.errors.time": "2026-01-01T00:00:00.000Z",
  });
  assert.ok(isErrorHeader(DLQ_HEADERS.stage) && isErrorHeader(DLQ_HEADERS.issues));
  assert.ok(!isErrorHeader("traceparent"));
});

Deno.test("the ops handler answers health, readiness and metrics", async () => {
  const registry = createRegistry();
  registry.counter("worker_rows_upserted_total", "rows").inc({}, 3);
  let ready = false;
  const handler = createOpsHandler({ registry, live: () => true, ready: () => ready });
  assert.equal(handler(new Request("http://x/healthz")).status, 200);
  assert.equal(handler(new Request("http://x/readyz")).status, 503);
  ready = true;
  assert.equal(handler(new Request("http://x/readyz")).status, 200);
  const metrics = handler(new Request("http://x/metrics"));
  assert.match(await metrics.text(), /^worker_rows_upserted_total 3$/m);
  assert.equal(handler(new Request("http://x/nope")).status, 404);
  assert.equal(handler(new Request("http://x/healthz", { method: "POST" })).status, 405);
});
