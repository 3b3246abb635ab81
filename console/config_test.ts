import assert from "node:assert/strict";
import { ConfigError } from "../shared/config.ts";
import { documentedVariables } from "../testing/config_docs.ts";
import { consoleConfigSchema, loadConsoleConfig } from "./config.ts";

const root = new URL("../", import.meta.url);
const load = (env: Record<string, string>) =>
  loadConsoleConfig((key) => ({ KAFKA_BROKERS: "127.0.0.1:9092", ...env })[key]);

Deno.test("loadConsoleConfig() listens on 127.0.0.1:8070 without a token by default", () => {
  const c = load({});
  assert.equal(c.CONSOLE_HOST, "127.0.0.1");
  assert.equal(c.CONSOLE_PORT, 8070);
  assert.equal(c.CONSOLE_TOKEN, undefined);
  assert.deepEqual(c.CONSOLE_INGEST_URLS, []);
  assert.equal(c.KAFKA_GROUP_ID, "user-pipeline-worker");
});

Deno.test("loadConsoleConfig() refuses another address without CONSOLE_TOKEN, naming it", () => {
  assert.throws(() => load({ CONSOLE_HOST: "0.0.0.0" }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => p.variable), ["CONSOLE_TOKEN"]);
    assert.match(
      err.message,
      /Cannot parse CONSOLE_TOKEN: required to listen on CONSOLE_HOST=0\.0\.0\.0/,
    );
    return true;
  });
  const c = load({ CONSOLE_HOST: "0.0.0.0", CONSOLE_TOKEN: "0123456789abcdef" });
  assert.equal(c.CONSOLE_HOST, "0.0.0.0");
});

Deno.test("loadConsoleConfig() names every bad variable: URLs, a short token, the warehouse URL", () => {
  assert.throws(
    () =>
      load({
        CONSOLE_INGEST_URLS: "http://127.0.0.1:8080, ftp://x",
        CONSOLE_TOKEN: "short",
        CONSOLE_WAREHOUSE_URL: "mysql://x",
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.variable).toSorted(), [
        "CONSOLE_INGEST_URLS",
        "CONSOLE_TOKEN",
        "CONSOLE_WAREHOUSE_URL",
      ]);
      return true;
    },
  );
  const c = load({ CONSOLE_WORKER_URLS: "http://127.0.0.1:9090/, http://127.0.0.1:9091" });
  assert.deepEqual(c.CONSOLE_WORKER_URLS, ["http://127.0.0.1:9090", "http://127.0.0.1:9091"]);
});

Deno.test("docs/configuration.md's console table and .env.example list every variable the console reads", async () => {
  const listed = await documentedVariables("console-config", "kafka-config");
  assert.deepEqual(listed, Object.keys(consoleConfigSchema.shape).toSorted());
  const example = await Deno.readTextFile(new URL(".env.example", root));
  const named = new Set([...example.matchAll(/^#?\s*([A-Z0-9_]+)=/gm)].map((m) => m[1]));
  const missing = Object.keys(consoleConfigSchema.shape).filter((k) => !named.has(k));
  assert.deepEqual(missing, [], "variables missing from .env.example");
});

Deno.test("loadConsoleConfig() takes CONSOLE_TRACE_URL only as an http(s) URL with {trace_id}", () => {
  const ok = load({ CONSOLE_TRACE_URL: "http://jaeger:16686/trace/{trace_id}" });
  assert.equal(ok.CONSOLE_TRACE_URL, "http://jaeger:16686/trace/{trace_id}");
  for (
    const bad of ["http://jaeger:16686/trace/", "javascript:alert('{trace_id}')", "{trace_id}"]
  ) {
    assert.throws(
      () => load({ CONSOLE_TRACE_URL: bad }),
      (e: unknown) => e instanceof ConfigError && /CONSOLE_TRACE_URL/.test(e.message),
      bad,
    );
  }
});

Deno.test("loadConsoleConfig() refuses a bad listen address, a blank group and a blank port by name", () => {
  assert.throws(
    () => load({ CONSOLE_HOST: "256.1.1.1", KAFKA_GROUP_ID: " ", CONSOLE_PORT: " " }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.variable).sort(), [
        "CONSOLE_HOST",
        "CONSOLE_PORT",
        "KAFKA_GROUP_ID",
      ]);
      return true;
    },
  );
});
