import assert from "node:assert/strict";
import { workerConfigSchema } from "./config.ts";

const root = new URL("../", import.meta.url);

Deno.test("docs/configuration.md's worker table lists every variable the worker reads", async () => {
  const doc = await Deno.readTextFile(new URL("docs/configuration.md", root));
  // The worker's own variables, plus the Kafka connection variables every program shares.
  const section = (name: string) => {
    const start = doc.indexOf(`<!-- section:${name} -->`);
    const end = doc.indexOf(`<!-- /section:${name} -->`);
    assert.ok(start >= 0 && end > start, `the ${name} section exists`);
    return doc.slice(start, end);
  };
  const listed = [section("worker-config"), section("kafka-config")].flatMap((text) =>
    [...text.matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1])
  );
  assert.deepEqual(listed.toSorted(), Object.keys(workerConfigSchema.shape).toSorted());
});

Deno.test(".env.example names every variable the worker reads", async () => {
  const example = await Deno.readTextFile(new URL(".env.example", root));
  const named = new Set([...example.matchAll(/^#?\s*([A-Z0-9_]+)=/gm)].map((m) => m[1]));
  const missing = Object.keys(workerConfigSchema.shape).filter((k) => !named.has(k));
  assert.deepEqual(missing, [], "variables missing from .env.example");
});
