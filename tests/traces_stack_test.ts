/**
 * Traces end to end, with the real programs as processes (each with its deno.json task's
 * flags) exporting to a test OTLP/HTTP receiver: the ingest's request span is the context the
 * record carries, the worker's flush span links to it, and the upsert that wrote the row is a
 * child of that flush. With `OTEL_DENO` unset, nothing is exported at all; with the sampler
 * off (`OTEL_TRACES_SAMPLER=always_off`), no span is, and records still carry the context.
 */
import assert from "node:assert/strict";
import { sharedStack } from "../stack/harness.ts";
import { parseTraceparent } from "../shared/tracing.ts";
import { type ReceivedSpan, startOtlpReceiver } from "../testing/otlp_receiver.ts";
import { setupPipeline } from "../testing/pipeline.ts";
import { type RunningProgram, startProgram } from "../testing/program.ts";
import { sampleUser } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";
import { signedRequest, TEST_SECRET } from "../testing/webhook.ts";

/** The caller's trace, which the ingest's request span continues. */
const CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CONSUMER = 5;

/** Starts worker and ingest on `p` with `extraEnv`, POSTs one signed user; its traceparent. */
async function sendOneUser(
  p: Awaited<ReturnType<typeof setupPipeline>>,
  programs: RunningProgram[],
  extraEnv: (service: string) => Record<string, string>,
): Promise<{ answered: string; recorded: string }> {
  programs.push(
    await startProgram("worker", { ...p.workerEnv, ...extraEnv("user-pipeline-worker") }),
  );
  const ingest = await startProgram("ingest", {
    KAFKA_BROKERS: p.workerEnv.KAFKA_BROKERS!,
    KAFKA_TOPIC: p.topic,
    WEBHOOK_SECRET: TEST_SECRET,
    PULL_ENABLED: "false",
    ...extraEnv("user-pipeline-ingest"),
  });
  programs.push(ingest);
  const body = JSON.stringify(sampleUser(0, { id: crypto.randomUUID() }));
  const signed = await signedRequest(body, { headers: { traceparent: CALLER } });
  const response = await fetch(`http://127.0.0.1:${ingest.port}/v1/users`, {
    method: "POST",
    headers: signed.headers,
    body,
  });
  assert.equal(response.status, 202, await response.text());
  const [record] = await p.kafka.readTopic(p.topic, { expected: 1, timeoutMs: 30_000 });
  await waitUntil(async () => (await p.count()) === 1, 60_000, "the row");
  return {
    answered: response.headers.get("traceparent") ?? "",
    recorded: record!.headers.traceparent ?? "",
  };
}

/** Stops every program, newest first, and checks that each exited 0. */
async function stopAll(programs: RunningProgram[]): Promise<void> {
  for (const program of programs.reverse().splice(0)) {
    const status = await program.stop();
    assert.equal(status.code, 0, `${program.name} stops cleanly`);
  }
}

Deno.test("a webhook user's trace: request span → record traceparent → flush span linked to it → the upsert", async () => {
  const p = await setupPipeline(await sharedStack(), "traces", 2);
  await using otlp = await startOtlpReceiver();
  const programs: RunningProgram[] = [];
  try {
    const { answered, recorded } = await sendOneUser(p, programs, (s) => otlp.env(s));
    const record = parseTraceparent(recorded);
    assert.ok(record, `the record carries a valid traceparent: ${recorded}`);
    assert.equal(answered, recorded, "the 202 names the context the record carries");
    assert.equal(record.traceId, CALLER.slice(3, 35), "the caller's trace goes on");

    const find = (match: (s: ReceivedSpan) => boolean) => otlp.spans.find(match);
    const request = () =>
      find((s) => s.service === "user-pipeline-ingest" && s.spanId === record.spanId);
    const flush = () =>
      find((s) =>
        s.service === "user-pipeline-worker" && s.name === `process ${p.topic}` &&
        s.links.some((l) => l.traceId === record.traceId && l.spanId === record.spanId)
      );
    const child = (name: string) =>
      find((s) => s.parentSpanId === flush()?.spanId && s.name.startsWith(name));
    await waitUntil(
      () =>
        !!(request() && flush() && child(`INSERT ${p.schema}.users`) && child("commit offsets")),
      30_000,
      "the request, flush, upsert and commit spans",
    );

    const r = request()!;
    assert.equal(r.kind, SPAN_KIND_SERVER, "Deno.serve's request span");
    assert.equal(r.traceId, record.traceId);
    assert.equal(r.parentSpanId, CALLER.slice(36, 52), "a child of the caller's span");
    assert.equal(r.attributes["http.request.method"], "POST");

    const f = flush()!;
    assert.equal(f.kind, SPAN_KIND_CONSUMER);
    assert.equal(f.parentSpanId, "", "a batch is a trace of its own, linked to its records");
    assert.deepEqual(
      {
        system: f.attributes["messaging.system"],
        destination: f.attributes["messaging.destination.name"],
        group: f.attributes["messaging.consumer.group.name"],
        operation: f.attributes["messaging.operation.type"],
        count: f.attributes["messaging.batch.message_count"],
        rows: f.attributes["user_pipeline.rows_written"],
      },
      {
        system: "kafka",
        destination: p.topic,
        group: p.groupId,
        operation: "process",
        count: 1,
        rows: 1,
      },
    );
    // The postgres dialect upserts with INSERT … ON CONFLICT (Redshift's is a MERGE).
    const upsert = child(`INSERT ${p.schema}.users`)!;
    assert.equal(upsert.traceId, f.traceId);
    assert.equal(upsert.attributes["db.system.name"], "postgresql");
    assert.equal(upsert.attributes["db.operation.name"], "INSERT");
    assert.equal(upsert.attributes["db.collection.name"], `${p.schema}.users`);
    assert.ok(child("decode"), "decoding is a child of the flush");
    await stopAll(programs);
  } finally {
    await Promise.all(programs.map((program) => program.stop()));
    await p.close();
  }
});

Deno.test("with OTEL_DENO unset, no span is exported and records still carry a traceparent", async () => {
  const p = await setupPipeline(await sharedStack(), "traces_off", 2);
  await using otlp = await startOtlpReceiver();
  const programs: RunningProgram[] = [];
  try {
    // Everything but the switch: an exporter would have somewhere to send to.
    const { recorded } = await sendOneUser(p, programs, (service) => {
      const { OTEL_DENO: _, ...rest } = otlp.env(service);
      return rest;
    });
    const record = parseTraceparent(recorded);
    assert.ok(record, `the record carries a valid traceparent: ${recorded}`);
    assert.equal(record.traceId, CALLER.slice(3, 35), "the caller's trace goes on");
    assert.notEqual(record.spanId, CALLER.slice(36, 52), "with a span id of the ingest's own");
    // Stopping flushes whatever an exporter holds: after it, nothing can still be on its way.
    await stopAll(programs);
    assert.deepEqual([...otlp.requests], [], "no traces, logs or metrics were sent");
  } finally {
    await Promise.all(programs.map((program) => program.stop()));
    await p.close();
  }
});

Deno.test("with OTEL_TRACES_SAMPLER=always_off, no span is exported and records carry the caller's trace, unsampled", async () => {
  const p = await setupPipeline(await sharedStack(), "traces_sampled_out", 2);
  await using otlp = await startOtlpReceiver();
  const programs: RunningProgram[] = [];
  try {
    // Deno (2.9 or newer) samples at the start of each span; an unsampled span keeps a valid
    // context with the sampled flag cleared, so the caller's trace still goes on the record.
    const { answered, recorded } = await sendOneUser(p, programs, (service) => ({
      ...otlp.env(service),
      OTEL_TRACES_SAMPLER: "always_off",
    }));
    const record = parseTraceparent(recorded);
    assert.ok(record, `the record carries a valid traceparent: ${recorded}`);
    assert.equal(answered, recorded, "the 202 names the context the record carries");
    assert.equal(record.traceId, CALLER.slice(3, 35), "the caller's trace goes on");
    assert.equal(record.traceFlags, 0, "marked not sampled, so that the next hop drops it too");
    // Stopping flushes whatever the exporter holds: after it, nothing can still be on its way.
    await stopAll(programs);
    assert.deepEqual(otlp.spans, [], "no span of either program was exported");
  } finally {
    await Promise.all(programs.map((program) => program.stop()));
    await p.close();
  }
});
