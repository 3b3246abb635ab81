import { POSTGRES_NUMERIC_ENV } from "../shared/postgres_env.ts";
import assert from "node:assert/strict";
import { ConfigError } from "../shared/config.ts";
import { loadWorkerConfig, workerConfigSchema } from "./config.ts";

const redshift: Record<string, string> = {
  KAFKA_BROKERS: "127.0.0.1:9092",
  WAREHOUSE_URL: "postgres://u@example.com:5439/user_data",
  WAREHOUSE_DIALECT: "redshift",
};

function problems(env: Record<string, string>): Record<string, string> {
  try {
    loadWorkerConfig((k) => env[k]);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return Object.fromEntries(err.problems.map((p) => [p.variable, p.message]));
  }
  return {};
}

Deno.test("loadWorkerConfig() leaves S3 staging off by default, with documented defaults for the rest", () => {
  const c = loadWorkerConfig((k) => redshift[k]);
  assert.equal(c.WAREHOUSE_S3_BUCKET, undefined);
  assert.equal(c.WAREHOUSE_S3_PREFIX, "staging/");
  assert.equal(c.WAREHOUSE_S3_IAM_ROLE, "default");
  assert.equal(c.WAREHOUSE_S3_MIN_ROWS, 1000);
  assert.equal(c.AWS_EC2_METADATA_DISABLED, false);
});

Deno.test("loadWorkerConfig() takes an S3 bucket with a region, a role ARN and a prefix without its slash", () => {
  const c = loadWorkerConfig((k) =>
    ({
      ...redshift,
      WAREHOUSE_S3_BUCKET: "user-pipeline-staging-20260101",
      WAREHOUSE_S3_PREFIX: "worker/users",
      WAREHOUSE_S3_IAM_ROLE: "arn:aws:iam::123456789012:role/user-pipeline-redshift-x",
      AWS_DEFAULT_REGION: "eu-west-1",
    })[k]
  );
  assert.equal(c.WAREHOUSE_S3_PREFIX, "worker/users/");
  assert.equal(c.AWS_DEFAULT_REGION, "eu-west-1");
});

Deno.test("loadWorkerConfig() names what S3 staging lacks", () => {
  assert.deepEqual(
    problems({ ...redshift, WAREHOUSE_S3_BUCKET: "bkt-1", AWS_EC2_METADATA_DISABLED: "true" }),
    {
      AWS_REGION: "required with WAREHOUSE_S3_BUCKET (or AWS_DEFAULT_REGION)",
      AWS_EC2_METADATA_DISABLED:
        "is true, and neither AWS_ACCESS_KEY_ID nor a container credentials endpoint is set: " +
        "WAREHOUSE_S3_BUCKET needs credentials",
    },
  );
  assert.deepEqual(
    problems({
      ...redshift,
      WAREHOUSE_DIALECT: "postgres",
      WAREHOUSE_S3_BUCKET: "bkt-1",
      AWS_REGION: "us-east-1",
    }),
    { WAREHOUSE_S3_BUCKET: "only the redshift dialect stages through S3" },
  );
  assert.deepEqual(problems({ ...redshift, AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE" }), {
    AWS_SECRET_ACCESS_KEY: "required with AWS_ACCESS_KEY_ID",
  });
});

Deno.test("loadWorkerConfig() refuses malformed S3 settings, each by name", () => {
  assert.deepEqual(
    Object.keys(problems({
      ...redshift,
      WAREHOUSE_S3_BUCKET: "Not_A_Bucket",
      WAREHOUSE_S3_PREFIX: "it's/",
      WAREHOUSE_S3_IAM_ROLE: "arn:aws:iam::123:user/me",
      WAREHOUSE_S3_MIN_ROWS: "0",
      WAREHOUSE_S3_ENDPOINT: "ftp://x",
      AWS_REGION: "Europe",
    })).sort(),
    [
      "AWS_REGION",
      "WAREHOUSE_S3_BUCKET",
      "WAREHOUSE_S3_ENDPOINT",
      "WAREHOUSE_S3_IAM_ROLE",
      "WAREHOUSE_S3_MIN_ROWS",
      "WAREHOUSE_S3_PREFIX",
    ],
  );
});

Deno.test("loadWorkerConfig() sets the write deadline by dialect unless WAREHOUSE_WRITE_TIMEOUT_MS does", () => {
  assert.equal(loadWorkerConfig((k) => redshift[k]).WAREHOUSE_WRITE_TIMEOUT_MS, 300_000);
  const postgresEnv: Record<string, string> = { ...redshift, WAREHOUSE_DIALECT: "postgres" };
  assert.equal(loadWorkerConfig((k) => postgresEnv[k]).WAREHOUSE_WRITE_TIMEOUT_MS, 30_000);
  const set: Record<string, string> = { ...redshift, WAREHOUSE_WRITE_TIMEOUT_MS: "2500" };
  assert.equal(loadWorkerConfig((k) => set[k]).WAREHOUSE_WRITE_TIMEOUT_MS, 2_500);
});

Deno.test("loadWorkerConfig() refuses a write deadline below a second or that is not a number, by name", () => {
  for (const value of ["999", "ten", "0"]) {
    assert.deepEqual(
      Object.keys(problems({ ...redshift, WAREHOUSE_WRITE_TIMEOUT_MS: value })),
      ["WAREHOUSE_WRITE_TIMEOUT_MS"],
      value,
    );
  }
});

Deno.test("loadWorkerConfig() bounds the wait for Kafka's first answer at 10 s unless KAFKA_START_TIMEOUT_MS says otherwise", () => {
  const env = { KAFKA_BROKERS: "127.0.0.1:9092", WAREHOUSE_URL: "postgres://u@127.0.0.1/db" };
  assert.equal(
    loadWorkerConfig((k) => (env as Record<string, string>)[k]).KAFKA_START_TIMEOUT_MS,
    10_000,
  );
  const set = { ...env, KAFKA_START_TIMEOUT_MS: "30000" } as Record<string, string>;
  assert.equal(loadWorkerConfig((k) => set[k]).KAFKA_START_TIMEOUT_MS, 30_000);
  assert.deepEqual(problems({ ...env, KAFKA_START_TIMEOUT_MS: "500" }), {
    KAFKA_START_TIMEOUT_MS: "Too small: expected number to be >=1000",
  });
});

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

Deno.test("loadWorkerConfig() refuses hostile values by name: a bad address, a blank group, a port out of range, numbers that are not decimal", () => {
  const base = { KAFKA_BROKERS: "127.0.0.1:9092", WAREHOUSE_URL: "postgres://u@127.0.0.1/db" };
  assert.deepEqual(
    Object.keys(problems({
      ...base,
      KAFKA_BROKERS: "127.0.0.1:99999",
      WORKER_HOSTNAME: "256.1.1.1",
      KAFKA_GROUP_ID: "  ",
      WORKER_PORT: " ",
      WORKER_FLUSH_ROWS: "1e3",
      WORKER_MAX_WAIT_MS: "0x10",
    })).sort(),
    [
      "KAFKA_BROKERS",
      "KAFKA_GROUP_ID",
      "WORKER_FLUSH_ROWS",
      "WORKER_HOSTNAME",
      "WORKER_MAX_WAIT_MS",
      "WORKER_PORT",
    ],
  );
  assert.deepEqual(Object.keys(problems({ ...base, WORKER_HOSTNAME: " " })), ["WORKER_HOSTNAME"]);
});

Deno.test("loadWorkerConfig() names a numeric PG variable postgres.js would misread, beside the worker's own", () => {
  const base = { KAFKA_BROKERS: "127.0.0.1:9092", WAREHOUSE_URL: "postgres://u@127.0.0.1/db" };
  assert.deepEqual(Object.keys(problems({ ...base, PGMAX_PIPELINE: "-1" })), ["PGMAX_PIPELINE"]);
  assert.deepEqual(
    Object.keys(problems({ ...base, PGKEEP_ALIVE: "abc", WORKER_PORT: "x" })).sort(),
    ["PGKEEP_ALIVE", "WORKER_PORT"],
  );
  assert.deepEqual(problems({ ...base, PGMAX_PIPELINE: "50", PGPORT: "5433" }), {});
});

Deno.test("loadWorkerConfig() commits offsets at most once a second unless WORKER_COMMIT_INTERVAL_MS says otherwise, and names it when it is bad", () => {
  assert.equal(loadWorkerConfig((k) => minimal[k]).WORKER_COMMIT_INTERVAL_MS, 1_000);
  const off: Record<string, string> = { ...minimal, WORKER_COMMIT_INTERVAL_MS: "0" };
  assert.equal(loadWorkerConfig((k) => off[k]).WORKER_COMMIT_INTERVAL_MS, 0);
  for (const value of ["-1", "60001", "1s", "1e3"]) {
    assert.deepEqual(
      Object.keys(problems({ ...minimal, WORKER_COMMIT_INTERVAL_MS: value })),
      ["WORKER_COMMIT_INTERVAL_MS"],
      value,
    );
  }
});
