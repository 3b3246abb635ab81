import assert from "node:assert/strict";
import { silentLogger } from "../../shared/logger.ts";
import { createRegistry } from "../../shared/metrics.ts";
import { inSpan } from "../../shared/tracing.ts";
import type { ConsumedRecord, PartitionOffset } from "../../shared/kafka/consumer_group.ts";
import { FakeTracing, message } from "../../testing/fakes.ts";
import { waitUntil } from "../../testing/wait.ts";
import { createWorkerMetrics } from "../worker_metrics.ts";
import { WriteError } from "../warehouse/write_error.ts";
import { createCommitter } from "./committer.ts";
import { recordContexts, startFlushSpan } from "./flush_trace.ts";

const A = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const B = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
const encode = (s: string) => new TextEncoder().encode(s);

Deno.test("recordContexts() reads each record's traceparent once, skipping missing and invalid ones", () => {
  const withHeader = (offset: number, ...traceparents: string[]): ConsumedRecord => ({
    ...message(offset, "{}"),
    headers: traceparents.map((t) => ["traceparent", encode(t)]),
  });
  const contexts = recordContexts([
    withHeader(0, A),
    withHeader(1, A),
    withHeader(2, "garbage", B), // a repeated header: its last value
    withHeader(3),
    withHeader(4, "00-abc-def-01"),
    withHeader(5, B),
  ]);
  assert.deepEqual(contexts, [
    { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 },
    { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 0 },
  ]);
});

Deno.test("startFlushSpan() starts a new trace linked to the records, with the messaging attributes", () => {
  const tracing = new FakeTracing();
  const messages = [0, 1, 2].map((i) => ({
    ...message(i, "{}"),
    headers: [["traceparent", encode(A)]] as ConsumedRecord["headers"],
  }));
  const span = tracing.withSpan(
    tracing.startSpan("unrelated"),
    () => startFlushSpan(tracing, messages, "group-1"),
  );
  assert.equal(tracing.spans.at(-1), span);
  assert.equal(tracing.spans.at(-1)!.name, "process user_created");
  assert.equal(tracing.spans.at(-1)!.parent, undefined, "a root, whatever was active");
  assert.deepEqual(tracing.spans.at(-1)!.options.kind, "consumer");
  assert.equal(tracing.spans.at(-1)!.options.links?.length, 1);
  assert.deepEqual(tracing.spans.at(-1)!.attributes, {
    "messaging.system": "kafka",
    "messaging.destination.name": "user_created",
    "messaging.consumer.group.name": "group-1",
    "messaging.operation.type": "process",
    "messaging.operation.name": "process",
    "messaging.batch.message_count": 3,
  });
});

function source() {
  const commits: PartitionOffset[][] = [];
  return {
    commits,
    pause() {},
    resume() {},
    commit(offsets: readonly PartitionOffset[]) {
      commits.push([...offsets]);
      return Promise.resolve();
    },
    assignment: () => new Set(["t:0", "t:1"]),
    waiting: () => 0,
  };
}

function rec(partition: number, offset: number, traceparent = A): ConsumedRecord {
  return {
    topic: "t",
    partition,
    offset: BigInt(offset),
    key: encode("k"),
    value: encode("v"),
    headers: [["traceparent", encode(traceparent)]],
    timestamp: 0,
  };
}

function tracedCommitter(tracing: FakeTracing, failures = 0) {
  let failing = failures;
  return createCommitter<string>({
    source: source(),
    prepare: (messages) =>
      inSpan(tracing, "decode", {}, () => Promise.resolve(`${messages.length}`)),
    handle: async (messages) => {
      await inSpan(tracing, "MERGE s.users", {}, () => Promise.resolve());
      if (failing-- > 0) throw new WriteError("connection refused", "retry", "ECONNREFUSED");
      return {
        rows: messages.length,
        stale: 0,
        superseded: 0,
        deadLetters: [],
        held: 0,
        newHolds: [],
      };
    },
    policy: { flushRows: 1000, flushBytes: 1 << 20, flushMs: 60_000, flushWhenIdle: true },
    retry: { minMs: 1, maxMs: 2, random: () => 0 },
    metrics: createWorkerMetrics(createRegistry()),
    logger: silentLogger,
    tracing,
    consumerGroup: "g",
  });
}

Deno.test("createCommitter() with tracing: one flush span linked to the records, parent of decode, statements and commit, ended after the commit", async () => {
  const tracing = new FakeTracing();
  const c = tracedCommitter(tracing);
  for (const r of [rec(0, 5), rec(1, 7, B), rec(0, 6)]) c.add(r);
  await c.drained();
  const [flush] = tracing.named("process t");
  assert.ok(flush, `a flush span among ${tracing.spans.map((s) => s.name)}`);
  assert.deepEqual(
    flush.options.links?.map((l) => l.spanId),
    ["00f067aa0ba902b7", "b7ad6b7169203331"],
  );
  assert.equal(flush.attributes["messaging.batch.message_count"], 3);
  assert.equal(flush.attributes["user_pipeline.rows_written"], 3);
  for (const name of ["decode", "MERGE s.users", "commit offsets"]) {
    const [child] = tracing.named(name);
    assert.equal(child?.parent, flush, `${name} is a child of the flush`);
    assert.ok(child.ended, `${name} ended`);
  }
  assert.equal(
    tracing.named("commit offsets")[0]!.attributes["messaging.operation.type"],
    "settle",
  );
  assert.ok(flush.ended && !flush.failed);
  await c.stop();
});

Deno.test("createCommitter() with tracing records a failed attempt on the flush span and keeps it open until the retry's commit", async () => {
  const tracing = new FakeTracing();
  const c = tracedCommitter(tracing, 1);
  c.add(rec(0, 1));
  await waitUntil(() => tracing.named("commit offsets").length === 1, 5_000, "the commit", {
    intervalMs: 1,
  });
  await c.drained();
  const [flush] = tracing.named("process t");
  assert.equal(tracing.named("process t").length, 1, "one span for the batch, across attempts");
  assert.equal(flush!.errors.length, 1);
  assert.ok(flush!.ended && !flush!.failed, "it succeeded in the end");
  assert.equal(tracing.named("MERGE s.users").length, 2);
  await c.stop();
});

Deno.test("createCommitter() with tracing off starts no span", async () => {
  const tracing = new FakeTracing();
  tracing.enabled = false;
  const c = tracedCommitter(tracing);
  for (const r of [rec(0, 5), rec(1, 7)]) c.add(r);
  await c.drained();
  assert.deepEqual(tracing.spans, []);
  await c.stop();
});
