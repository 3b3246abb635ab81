import assert from "node:assert/strict";
import { createRegistry } from "../shared/metrics.ts";
import { silentLogger } from "../shared/logger.ts";
import type { ConsumedMessage } from "./consumed_message.ts";
import { type BatchPayload, createEachBatch, type EachBatchDeps } from "./each_batch.ts";
import type { BatchOutcome } from "./handle_batch.ts";
import { createWorkerMetrics } from "./worker_metrics.ts";
import { WriteError } from "./write_error.ts";

interface FakePayload extends BatchPayload {
  resolved: string[];
  heartbeats: number;
  commits: number;
  paused: number;
  resumed: number;
}

function payload(offsets: number[], stale = false): FakePayload {
  const p: FakePayload = {
    batch: {
      topic: "t",
      partition: 0,
      highWatermark: String((offsets.at(-1) ?? 0) + 5),
      messages: offsets.map((o) => ({ offset: String(o), key: null, value: null })),
    },
    resolved: [],
    heartbeats: 0,
    commits: 0,
    paused: 0,
    resumed: 0,
    resolveOffset: (o) => void p.resolved.push(o),
    heartbeat: () => (p.heartbeats++, Promise.resolve()),
    commitOffsetsIfNecessary: () => (p.commits++, Promise.resolve()),
    isRunning: () => true,
    isStale: () => stale,
    pause: () => (p.paused++, () => void p.resumed++),
  };
  return p;
}

const ok = (messages: readonly ConsumedMessage[]): Promise<BatchOutcome> =>
  Promise.resolve({ rows: messages.length, superseded: 0, deadLetters: [] });

function deps(over: Partial<EachBatchDeps>): EachBatchDeps {
  return {
    handle: ok,
    metrics: createWorkerMetrics(createRegistry()),
    logger: silentLogger,
    maxBatchRows: 2,
    retry: { minMs: 1, maxMs: 1, random: () => 0 },
    stopping: () => false,
    ...over,
  };
}

Deno.test("eachBatch resolves each transaction's last offset only after it is written", async () => {
  const seen: string[][] = [];
  const d = deps({
    handle: (m) => {
      seen.push(m.map((x) => x.offset));
      return ok(m);
    },
  });
  const handler = createEachBatch(d);
  const p = payload([10, 11, 12, 13, 14]);
  await handler.eachBatch(p);
  assert.deepEqual(seen, [["10", "11"], ["12", "13"], ["14"]]);
  assert.deepEqual(p.resolved, ["11", "13", "14"]);
  assert.equal(p.heartbeats, 3, "a heartbeat after every transaction");
  assert.equal(p.commits, 1);
  assert.equal(d.metrics.rowsUpserted.get(), 5);
  assert.equal(d.metrics.lag.get({ topic: "t", partition: "0" }), 4);
  handler.close();
});

Deno.test("eachBatch pauses the partition on a transient error, resolves nothing, and resumes alone", async () => {
  let calls = 0;
  const d = deps({
    handle: () => {
      calls++;
      return Promise.reject(new WriteError("connection refused", true, "ECONNREFUSED"));
    },
  });
  const handler = createEachBatch(d);
  const p = payload([1, 2, 3]);
  await handler.eachBatch(p);
  assert.equal(calls, 1);
  assert.deepEqual(p.resolved, []);
  assert.equal(p.commits, 0);
  assert.equal(p.paused, 1);
  assert.equal(d.metrics.errors.get({ kind: "retry" }), 1);
  const deadline = Date.now() + 5_000;
  while (p.resumed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(p.resumed, 1, "the resume timer fired");
  handler.close();
});

Deno.test("eachBatch keeps what was written before a transient error and stops there", async () => {
  let calls = 0;
  const handler = createEachBatch(deps({
    handle: (m) => {
      if (++calls === 2) return Promise.reject(new WriteError("timeout", true, "57014"));
      return ok(m);
    },
  }));
  const p = payload([1, 2, 3, 4, 5]);
  await handler.eachBatch(p);
  assert.deepEqual(p.resolved, ["2"]);
  handler.close();
});

Deno.test("eachBatch does nothing once stopping, and resolves nothing for a revoked partition", async () => {
  const stopped = payload([1, 2]);
  const h1 = createEachBatch(deps({ stopping: () => true }));
  await h1.eachBatch(stopped);
  assert.deepEqual(stopped.resolved, []);
  h1.close();

  const revoked = payload([1, 2], true);
  const h3 = createEachBatch(deps({}));
  await h3.eachBatch(revoked);
  assert.deepEqual(revoked.resolved, []);
  h3.close();
});

Deno.test("close() cancels pending resume timers", async () => {
  const handler = createEachBatch(deps({
    handle: () => Promise.reject(new WriteError("down", true, "ECONNREFUSED")),
    retry: { minMs: 60_000, maxMs: 60_000 },
  }));
  const p = payload([1]);
  await handler.eachBatch(p);
  assert.equal(p.paused, 1);
  handler.close(); // the sanitizer fails the test if a timer is left behind
  assert.equal(p.resumed, 0);
});
