import assert from "node:assert/strict";
import { z } from "zod";
import { ConfigError, env, loadConfig } from "./config.ts";

const schema = z.object({
  KAFKA_BROKERS: env.hostPorts(),
  PORT: env.int(0, 65535).default(8080),
  ENABLED: env.bool().default(true),
});

Deno.test("loadConfig() parses, coerces and defaults, and returns a frozen object", () => {
  const vars: Record<string, string> = { KAFKA_BROKERS: "a:1, b:2", ENABLED: "no", PORT: "" };
  const config = loadConfig(schema, (k) => vars[k]);
  assert.deepEqual(config, { KAFKA_BROKERS: ["a:1", "b:2"], PORT: 8080, ENABLED: false });
  assert.ok(Object.isFrozen(config));
});

Deno.test("loadConfig() reads only the keys its schema names", () => {
  const read: string[] = [];
  loadConfig(schema, (k) => {
    read.push(k);
    return k === "KAFKA_BROKERS" ? "a:1" : undefined;
  });
  assert.deepEqual(read.sort(), ["ENABLED", "KAFKA_BROKERS", "PORT"]);
});

Deno.test("loadConfig() reports every bad variable at once, by name", () => {
  const vars: Record<string, string> = { KAFKA_BROKERS: "nohost", PORT: "99999", ENABLED: "maybe" };
  assert.throws(() => loadConfig(schema, (k) => vars[k]), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => p.variable), ["KAFKA_BROKERS", "PORT", "ENABLED"]);
    assert.match(err.message, /Cannot parse KAFKA_BROKERS: expected host:port, got "nohost"/);
    return true;
  });
});

Deno.test("loadConfig() names a missing required variable", () => {
  assert.throws(() => loadConfig(schema, () => undefined), /Cannot parse KAFKA_BROKERS/);
});

Deno.test("env.int() takes decimal digits only: a blank is not 0, and 0x10 or 1e3 are not numbers", () => {
  const int = env.int(0, 65535);
  assert.equal(int.parse(" 8080 "), 8080);
  assert.equal(int.parse("0"), 0);
  for (const bad of [" ", "\t", "0x10", "1e3", "1.5", "+1", "8080a", "Infinity"]) {
    const result = int.safeParse(bad);
    assert.ok(!result.success, `${JSON.stringify(bad)} is refused`);
  }
  assert.ok(!int.safeParse("65536").success, "the bound still holds");
  const vars: Record<string, string> = { KAFKA_BROKERS: "a:1", PORT: " " };
  assert.throws(() => loadConfig(schema, (k) => vars[k]), /Cannot parse PORT: expected a whole/);
});

Deno.test("env.hostPorts() refuses a port outside 1 to 65535 and a host that is no host", () => {
  const brokers = env.hostPorts();
  assert.deepEqual(brokers.parse("kafka-1:9092,10.0.0.7:65535,b_1.msk:9098"), [
    "kafka-1:9092",
    "10.0.0.7:65535",
    "b_1.msk:9098",
  ]);
  for (const bad of ["kafka:99999", "kafka:0", "256.1.1.1:9092", "-kafka:9092"]) {
    assert.ok(!brokers.safeParse(bad).success, `${bad} is refused`);
  }
  assert.throws(
    () => loadConfig(schema, (k) => k === "KAFKA_BROKERS" ? "127.0.0.1:99999" : undefined),
    /Cannot parse KAFKA_BROKERS: expected a port from 1 to 65535, got "127.0.0.1:99999"/,
  );
});

Deno.test("env.listenHost() takes addresses and host names, and refuses 256.1.1.1 and a blank", () => {
  const host = env.listenHost();
  for (const good of ["0.0.0.0", "127.0.0.1", "::", "::1", "localhost", "ingest.internal"]) {
    assert.equal(host.parse(good), good);
  }
  assert.equal(host.parse("[::1]"), "::1", "brackets are dropped, as Deno.serve wants");
  for (const bad of ["256.1.1.1", " ", "1.2.3", "a b", "::g", "host:8080", "http://x"]) {
    assert.ok(!host.safeParse(bad).success, `${JSON.stringify(bad)} is refused`);
  }
});

Deno.test("env.name() refuses a blank name", () => {
  const name = env.name(255);
  assert.equal(name.parse("user-pipeline-worker"), "user-pipeline-worker");
  assert.ok(!name.safeParse(" ").success);
  assert.ok(!name.safeParse("x".repeat(256)).success);
});
