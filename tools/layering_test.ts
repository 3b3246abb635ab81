import assert from "node:assert/strict";
import { importsOf, layeringProblems, readSources } from "./layering_rules.ts";

const sources = (files: Record<string, string>) => new Map(Object.entries(files));

Deno.test("importsOf() finds static, re-exported, side-effect and dynamic imports, not comments", () => {
  const text = `/** @example
 * import { x } from "./in_a_comment.ts";
 */
// import "./line_comment.ts";
import { a } from "./a.ts";
import type { B } from "../shared/b.ts";
export { c } from "./c.ts";
export type { D } from "./d.ts";
import "./side.ts";
import postgres from "postgres";
const e = await import("./e.ts");`;
  assert.deepEqual(
    importsOf("worker/x.ts", text).map((i) => `${i.to}${i.typeOnly ? " (type)" : ""}`),
    [
      "worker/a.ts",
      "shared/b.ts (type)",
      "worker/c.ts",
      "worker/d.ts (type)",
      "worker/side.ts",
      "postgres",
      "worker/e.ts",
    ],
  );
});

Deno.test("layeringProblems() names a cycle, a pure stage loading a client, a private file and a cross-program import", () => {
  const problems = layeringProblems(sources({
    "worker/a.ts": `import "./b.ts";`,
    "worker/b.ts": `import "./a.ts";`,
    "worker/batch/pure.ts": `import { sink } from "../sink.ts";`,
    "worker/sink.ts": `import postgres from "npm:postgres@3";`,
    "worker/_kit.ts": ``,
    "tests/t_test.ts": `import "../worker/_kit.ts";`,
    "ingest/app.ts": `import "../worker/a.ts"; import "../bench/x.ts";`,
    "bench/x.ts": ``,
  }));
  assert.deepEqual(problems.toSorted(), [
    "import cycle: worker/a.ts -> worker/b.ts -> worker/a.ts",
    "ingest/app.ts imports bench/x.ts: only tools import bench/",
    "ingest/app.ts imports worker/a.ts: one program imports another",
    "tests/t_test.ts imports worker/_kit.ts: a _ file is private to its folder",
    "worker/batch/pure.ts loads postgres (worker/batch/pure.ts -> worker/sink.ts): a pure stage",
  ]);
});

Deno.test("layeringProblems() lets type-only imports through, and tests import tools", () => {
  assert.deepEqual(
    layeringProblems(sources({
      "worker/batch/pure.ts":
        `import type { Sql } from "postgres"; import type { S } from "../sink.ts";`,
      "worker/sink.ts":
        `import postgres from "postgres"; import type { P } from "./batch/pure.ts";`,
      "worker/a_test.ts": `import "../load/x.ts";`,
      "load/x.ts": ``,
    })),
    [],
  );
});
Deno.test("the project itself keeps its layers", async () => {
  const root = new URL("..", import.meta.url).pathname;
  assert.deepEqual(layeringProblems(await readSources(root)), []);
});

Deno.test("layeringProblems() names an import that leaves the project, and keeps the project's own shared/", () => {
  assert.deepEqual(
    layeringProblems(sources({
      "ingest/http/app.ts": `import { log } from "../../shared/logger.ts";`,
      "shared/logger.ts": ``,
      "ingest/main.ts": `import "../../elsewhere/module.ts";`,
    })),
    ["ingest/main.ts imports ../../elsewhere/module.ts: outside the project"],
  );
});

Deno.test("layeringProblems() keeps @opentelemetry/api out of pure stages, which take the tracing port", () => {
  assert.deepEqual(
    layeringProblems(sources({
      "worker/batch/committer.ts": `import { noTracing } from "../../shared/tracing.ts";`,
      "shared/tracing.ts": ``,
      "shared/otel_tracing.ts": `import { trace } from "@opentelemetry/api";`,
      "worker/main.ts": `import "../shared/otel_tracing.ts";`,
      "ingest/http/app.ts": `import "../../shared/otel_tracing.ts";`,
    })),
    [
      "ingest/http/app.ts loads @opentelemetry/api (ingest/http/app.ts -> shared/otel_tracing.ts): a pure stage",
    ],
  );
});

Deno.test("layeringProblems() keeps the console apart from the other programs, and its live stage pure", () => {
  assert.deepEqual(
    layeringProblems(sources({
      "console/main.ts": `import "../worker/redrive/main.ts"; import "../shared/s.ts";`,
      "worker/redrive/main.ts": ``,
      "shared/s.ts": ``,
      "console/live/sampler.ts": `import "../sources/kafka_reader.ts";`,
      "console/sources/kafka_reader.ts": `import { Admin } from "@platformatic/kafka";`,
    })).toSorted(),
    [
      "console/live/sampler.ts loads @platformatic/kafka (console/live/sampler.ts -> " +
      "console/sources/kafka_reader.ts): a pure stage",
      "console/main.ts imports worker/redrive/main.ts: one program imports another",
    ],
  );
});

Deno.test("layeringProblems() keeps code out of schemas/, and lets tools import shared/", () => {
  assert.deepEqual(
    layeringProblems(sources({
      "schemas/user_created.v3.ts": `export const v3 = {};`,
      "tools/schemas.ts": `import { SCHEMA_VERSION } from "../shared/event.ts";`,
      "shared/event.ts": `import { z } from "zod";`,
    })),
    ["schemas/user_created.v3.ts: schemas/ holds data, not code"],
  );
});

Deno.test("layeringProblems() keeps the floors below the programs: shared/ and fixes/ import none", () => {
  assert.deepEqual(
    layeringProblems(sources({
      "shared/kafka/settings.ts": `import { x } from "../../worker/config.ts";`,
      "shared/event_test.ts": `import "../console/main.ts";`,
      "fixes/connection_drain.ts":
        `import { errorResponse } from "../ingest/http/error_response.ts";`,
      "fixes/env_guard.ts": `import "../shared/logger.ts";`,
      "worker/config.ts": `import "../shared/logger.ts"; import "../fixes/env_guard.ts";`,
      "ingest/http/error_response.ts": ``,
      "console/main.ts": ``,
      "shared/logger.ts": ``,
    })).toSorted(),
    [
      "fixes/connection_drain.ts imports ingest/http/error_response.ts: fixes/ imports no program",
      "shared/event_test.ts imports console/main.ts: shared/ imports no program",
      "shared/kafka/settings.ts imports worker/config.ts: shared/ imports no program",
    ],
  );
});

Deno.test("layeringProblems() keeps testing/ and stack/ out of product code, and lets its tests use them", () => {
  assert.deepEqual(
    layeringProblems(sources({
      "shared/config.ts": `import { fakeEnv } from "../testing/fakes.ts";`,
      "worker/main.ts": `import type { Stack } from "../stack/stack.ts";`,
      "fixes/guarded_server.ts": `const k = await import("../testing/kafka.ts");`,
      "ingest/http/app.ts": `import "../../stack/paths.ts";`,
      "console/main.ts": `import "../shared/config.ts";`,
      "worker/main_test.ts": `import "../testing/program.ts"; import "../stack/stack.ts";`,
      "bench/worker_bench.ts": `import "../stack/stack.ts"; import "../testing/kafka.ts";`,
      "testing/fakes.ts": ``,
      "testing/kafka.ts": ``,
      "testing/program.ts": ``,
      "stack/stack.ts": ``,
      "stack/paths.ts": ``,
    })).toSorted(),
    [
      "fixes/guarded_server.ts imports testing/kafka.ts: product code imports no testing/",
      "ingest/http/app.ts imports stack/paths.ts: product code imports no stack/",
      "shared/config.ts imports testing/fakes.ts: product code imports no testing/",
      "worker/main.ts imports stack/stack.ts: product code imports no stack/",
    ],
  );
});
