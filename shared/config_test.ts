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
