import assert from "node:assert/strict";
import { taskArgs } from "../stack/programs.ts";
import { createTracing, OTEL_ENV, otelTracingRegistered } from "./otel_tracing.ts";
import { noTracing } from "./tracing.ts";

Deno.test("the ingest and worker tasks' --allow-env list the OpenTelemetry variables Deno reads", () => {
  for (const task of ["ingest", "worker"]) {
    const flags = taskArgs(task);
    const allowEnv = flags.find((f) => f.startsWith("--allow-env="))?.slice(12).split(",") ?? [];
    for (const key of OTEL_ENV) {
      assert.ok(allowEnv.includes(key), `${task}: --allow-env has ${key}`);
    }
  }
});

Deno.test("createTracing() is noTracing when no tracer provider is registered (OTEL_DENO unset)", () => {
  // The test process runs without OTEL_DENO, so Deno registered nothing.
  assert.equal(otelTracingRegistered(), false);
  assert.equal(createTracing("test"), noTracing);
});

Deno.test("createTracing() forced on without a provider makes non-recording spans and no context", async () => {
  const tracing = createTracing("test", true);
  assert.equal(tracing.enabled, true);
  const span = tracing.startSpan("x", {
    kind: "consumer",
    root: true,
    links: [{
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
    }],
    attributes: { "messaging.system": "kafka" },
  });
  assert.equal(
    await tracing.withSpan(span, () => Promise.resolve(tracing.activeContext())),
    undefined,
  );
  span.recordError(new Error("boom"), true);
  span.end();
  span.end();
});
