import assert from "node:assert/strict";
import { workerConfigSchema } from "./config.ts";

const root = new URL("../", import.meta.url);

Deno.test("the README's worker configuration table lists every variable the worker reads", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const start = readme.indexOf("<!-- section:worker-config -->");
  const end = readme.indexOf("<!-- /section:worker-config -->");
  assert.ok(start >= 0 && end > start, "the worker-config section exists");
  const section = readme.slice(start, end);
  const listed = [...section.matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]);
  assert.deepEqual(listed.toSorted(), Object.keys(workerConfigSchema.shape).toSorted());
});

Deno.test(".env.example names every variable the worker reads", async () => {
  const example = await Deno.readTextFile(new URL(".env.example", root));
  const named = new Set([...example.matchAll(/^#?\s*([A-Z0-9_]+)=/gm)].map((m) => m[1]));
  const missing = Object.keys(workerConfigSchema.shape).filter((k) => !named.has(k));
  assert.deepEqual(missing, [], "variables missing from .env.example");
});
