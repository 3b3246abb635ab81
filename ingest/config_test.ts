import assert from "node:assert/strict";
import { documentedVariables } from "../testing/config_docs.ts";
import { ConfigError } from "../shared/config.ts";
import { ingestConfigSchema, loadIngestConfig } from "./config.ts";
import { TEST_SECRET } from "../testing/webhook.ts";

const load = (env: Record<string, string>) => loadIngestConfig((key) => env[key]);

Deno.test("loadIngestConfig() applies the documented defaults", () => {
  const config = load({ KAFKA_BROKERS: "127.0.0.1:9092", WEBHOOK_SECRET: TEST_SECRET });
  assert.deepEqual(config.KAFKA_BROKERS, ["127.0.0.1:9092"]);
  assert.equal(config.KAFKA_TOPIC, "user_created");
  assert.equal(config.INGEST_PORT, 8080);
  assert.equal(config.INGEST_HOST, "0.0.0.0");
  assert.equal(config.INGEST_ALLOW_UNSIGNED, false);
  assert.equal(config.RANDOMUSER_URL, "https://randomuser.me/api/");
  assert.equal(config.PULL_SCHEDULE, "* * * * *");
  assert.equal(config.PULL_ENABLED, true);
  assert.equal(config.WEBHOOK_SECRET.length, 1);
  assert.ok(Object.isFrozen(config));
});

Deno.test("loadIngestConfig() names every bad variable at once", () => {
  assert.throws(
    () =>
      load({
        KAFKA_BROKERS: "nohost",
        WEBHOOK_SECRET: "secret123",
        INGEST_PORT: "70000",
        PULL_SCHEDULE: "every minute",
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.problems.map((p) => p.variable).sort(),
        ["INGEST_PORT", "KAFKA_BROKERS", "PULL_SCHEDULE", "WEBHOOK_SECRET"],
      );
      assert.match(err.message, /Cannot parse WEBHOOK_SECRET: expected whsec_ prefix/);
      return true;
    },
  );
});

Deno.test("loadIngestConfig() requires WEBHOOK_SECRET unless unsigned requests are allowed", () => {
  assert.throws(
    () => load({ KAFKA_BROKERS: "127.0.0.1:9092" }),
    /Cannot parse WEBHOOK_SECRET: required/,
  );
  const config = load({ KAFKA_BROKERS: "127.0.0.1:9092", INGEST_ALLOW_UNSIGNED: "true" });
  assert.equal(config.INGEST_ALLOW_UNSIGNED, true);
  assert.deepEqual(config.WEBHOOK_SECRET, []);
});

Deno.test("loadIngestConfig() takes several space-separated secrets for rotation", () => {
  const other = "whsec_" + btoa("another-key-of-16-bytes");
  const config = load({
    KAFKA_BROKERS: "127.0.0.1:9092",
    WEBHOOK_SECRET: `${TEST_SECRET} ${other}`,
  });
  assert.equal(config.WEBHOOK_SECRET.length, 2);
});

Deno.test("ingestConfigSchema's keys are the variables docs/configuration.md documents", async () => {
  // The ingest's own variables, plus the Kafka connection variables every program shares.
  const listed = await documentedVariables("ingest-config", "kafka-config");
  assert.deepEqual(listed, Object.keys(ingestConfigSchema.shape).toSorted());
});

Deno.test("loadIngestConfig() refuses a send buffer smaller than two request bodies", () => {
  assert.throws(
    () =>
      load({
        KAFKA_BROKERS: "127.0.0.1:9092",
        WEBHOOK_SECRET: TEST_SECRET,
        INGEST_MAX_BODY_BYTES: "1048576",
        INGEST_BUFFER_MAX_BYTES: "1048576",
      }),
    /Cannot parse INGEST_BUFFER_MAX_BYTES: must be at least twice INGEST_MAX_BODY_BYTES \(2097152\)/,
  );
});

Deno.test("loadIngestConfig() bounds the wait for Kafka's first answer at 10 s unless KAFKA_START_TIMEOUT_MS says otherwise", () => {
  const env = { KAFKA_BROKERS: "127.0.0.1:9092", WEBHOOK_SECRET: TEST_SECRET };
  assert.equal(load(env).KAFKA_START_TIMEOUT_MS, 10_000);
  assert.equal(load({ ...env, KAFKA_START_TIMEOUT_MS: "30000" }).KAFKA_START_TIMEOUT_MS, 30_000);
  assert.throws(
    () => load({ ...env, KAFKA_START_TIMEOUT_MS: "soon" }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.variable), ["KAFKA_START_TIMEOUT_MS"]);
      assert.match(err.message, /Cannot parse KAFKA_START_TIMEOUT_MS/);
      return true;
    },
  );
});

Deno.test("loadIngestConfig() refuses hostile values by name: a bad address, a blank port, hex and exponent numbers, a broker port out of range", () => {
  assert.throws(
    () =>
      load({
        KAFKA_BROKERS: "127.0.0.1:99999",
        WEBHOOK_SECRET: TEST_SECRET,
        INGEST_HOST: "256.1.1.1",
        INGEST_PORT: " ",
        INGEST_MAX_ITEMS: "0x10",
        INGEST_LINGER_MS: "1e3",
        KAFKA_CLIENT_ID: " ",
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.variable).sort(), [
        "INGEST_HOST",
        "INGEST_LINGER_MS",
        "INGEST_MAX_ITEMS",
        "INGEST_PORT",
        "KAFKA_BROKERS",
        "KAFKA_CLIENT_ID",
      ]);
      return true;
    },
  );
  assert.throws(
    () => load({ KAFKA_BROKERS: "127.0.0.1:9092", WEBHOOK_SECRET: TEST_SECRET, INGEST_HOST: " " }),
    /Cannot parse INGEST_HOST: expected an IP address or a host name/,
  );
});

Deno.test("loadIngestConfig() with nothing set names KAFKA_BROKERS and WEBHOOK_SECRET at once", () => {
  assert.throws(() => load({}), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => p.variable), ["KAFKA_BROKERS", "WEBHOOK_SECRET"]);
    return true;
  });
  assert.throws(() => load({ INGEST_ALLOW_UNSIGNED: "true" }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => p.variable), ["KAFKA_BROKERS"]);
    return true;
  });
});
