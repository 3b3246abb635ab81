import assert from "node:assert/strict";
import { documentedVariables } from "../testing/config_docs.ts";
import { workerConfigSchema } from "./config.ts";

const root = new URL("../", import.meta.url);

Deno.test("docs/configuration.md's worker table lists every variable the worker reads", async () => {
  // The worker's own variables, plus the Kafka connection variables every program shares.
  const listed = await documentedVariables("worker-config", "kafka-config");
  assert.deepEqual(listed, Object.keys(workerConfigSchema.shape).toSorted());
});

Deno.test(".env.example names every variable the worker reads", async () => {
  const example = await Deno.readTextFile(new URL(".env.example", root));
  const named = new Set([...example.matchAll(/^#?\s*([A-Z0-9_]+)=/gm)].map((m) => m[1]));
  const missing = Object.keys(workerConfigSchema.shape).filter((k) => !named.has(k));
  assert.deepEqual(missing, [], "variables missing from .env.example");
});
