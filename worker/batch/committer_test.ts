import assert from "node:assert/strict";
import { silentLogger } from "../../shared/logger.ts";
import { createRegistry } from "../../shared/metrics.ts";
import { waitUntil } from "../../testing/wait.ts";
import type { ConsumedRecord, PartitionOffset } from "../../shared/kafka/consumer_group.ts";
import type { BatchOutcome } from "./handle_batch.ts";
import { createWorkerMetrics } from "../worker_metrics.ts";
import { WriteError } from "../warehouse/write_error.ts";
import {
  type CommitterDeps,
  type CommitterSource,
  createCommitter,
  type FlushPolicy,
} from "./committer.ts";
import { PartitionHolds } from "./partition_holds.ts";
import { createLogger } from "../../shared/logger.ts";
import { ConfigError } from "../../shared/config.ts";
import { KafkaSetupError } from "../../shared/kafka/kafka_error.ts";
import { UNEXPECTED_FAILURE_LIMIT } from "../failure.ts";
import { TableSchemaError } from "../warehouse/evolve_table.ts";

const POLICY: FlushPolicy = {
  flushRows: 1000,
  flushBytes: 1 << 20,
  flushMs: 60_000,
  flushWhenIdle: true,
};

function fakeSource(partitions = ["t:0", "t:1", "t:2"]) {
  const commits: PartitionOffset[][] = [];
  const source: CommitterSource & {
    commits: PartitionOffset[][];
    owned: Set<string>;
    pauses: number;
    resumes: number;
  } = {
    commits,
    owned: new Set(partitions),
    pauses: 0,
    resumes: 0,
    pause() {
      this.pauses++;
    },
    resume() {
      this.resumes++;
    },
    commit(offsets) {
      commits.push([...offsets].sort((a, b) => a.partition - b.partition));
      return Promise.resolve();
    },
    assignment() {
      return this.owned;
    },
    waiting: () => 0,
  };
  return source;
}

function rec(partition: number, offset: number): ConsumedRecord {
  return {
    topic: "t",
    partition,
    offset: BigInt(offset),
    key: new TextEncoder().encode(`k${partition}`),
    value: new TextEncoder().encode(`v${offset}`),
    headers: [],
    timestamp: 0,
  };
}

const OK: BatchOutcome = {
  rows: 0,
  stale: 0,
  superseded: 0,
  deadLetters: [],
  held: 0,
  newHolds: [],
};

/** A handler whose calls wait until released, to see what the next buffer collects. */
function gatedHandler() {
  const batches: ConsumedRecord[][] = [];
  let release: (() => void) | undefined;
  let fail: Error | null = null;
  return {
    batches,
    set fail(e: Error | null) {
      fail = e;
    },
    release: () => release?.(),
    handle: async (messages: readonly ConsumedRecord[]) => {
      batches.push([...messages]);
      await new Promise<void>((r) => release = r);
      if (fail) throw fail;
      return { ...OK, rows: messages.length };
    },
  };
}

function committer(
  source: CommitterSource,
  handle: (m: readonly ConsumedRecord[]) => Promise<BatchOutcome>,
  policy: Partial<FlushPolicy> = {},
  more: Partial<CommitterDeps> = {},
) {
  return createCommitter({
    source,
    handle,
    policy: { ...POLICY, ...policy },
    retry: { minMs: 1, maxMs: 2, random: () => 0 },
    metrics: createWorkerMetrics(createRegistry()),
    logger: silentLogger,
    ...more,
  });
}

/** Waits for in-memory state: polled every 1 ms, for 5 s at most. */
const until = (condition: () => boolean, what: string) =>
  waitUntil(condition, 5_000, what, { intervalMs: 1 });

Deno.test("createCommitter() writes records of all partitions as one batch and then commits each partition's next offset", async () => {
  const source = fakeSource();
  const batches: string[][] = [];
  const c = committer(source, (messages) => {
    batches.push(messages.map((m) => `${m.partition}@${m.offset}`));
    return Promise.resolve(OK);
  });
  for (const r of [rec(0, 5), rec(1, 7), rec(0, 6), rec(2, 1)]) c.add(r);
  await c.drained();
  assert.deepEqual(batches, [["0@5", "1@7", "0@6", "2@1"]]);
  assert.deepEqual(source.commits, [[
    { topic: "t", partition: 0, offset: 7n },
    { topic: "t", partition: 1, offset: 8n },
    { topic: "t", partition: 2, offset: 2n },
  ]]);
  await c.stop();
});

Deno.test("createCommitter() prepares the next batch while one is written, fills a third buffer, pauses fetching when it is full, and resumes after", async () => {
  const source = fakeSource();
  const h = gatedHandler();
  const prepared: string[] = [];
  const c = createCommitter<string>({
    source,
    prepare: (messages) => {
      const p = messages.map((m) => m.offset).join(",");
      prepared.push(p);
      return Promise.resolve(p);
    },
    handle: (messages, p) => {
      assert.equal(p, messages.map((m) => m.offset).join(","), "its own preparation");
      return h.handle(messages);
    },
    policy: { ...POLICY, flushRows: 3 },
    retry: { minMs: 1, maxMs: 2, random: () => 0 },
    metrics: createWorkerMetrics(createRegistry()),
    logger: silentLogger,
  });
  c.add(rec(0, 0));
  await until(() => h.batches.length === 1, "the first flush");
  for (let i = 1; i <= 3; i++) c.add(rec(1, i));
  assert.deepEqual(prepared, ["0", "1,2,3"], "the full buffer is sealed and prepared at once");
  assert.equal(source.pauses, 0);
  for (let i = 4; i <= 6; i++) c.add(rec(1, i));
  assert.equal(h.batches.length, 1, "one transaction at a time");
  assert.equal(source.pauses, 1, "a full buffer behind a sealed one pauses fetching");
  assert.equal(source.commits.length, 0, "nothing committed before the transaction ends");
  h.release();
  await until(() => h.batches.length === 2, "the second flush");
  assert.equal(source.resumes, 1);
  assert.deepEqual(h.batches[1]!.map((m) => m.offset), [1n, 2n, 3n]);
  assert.deepEqual(prepared, ["0", "1,2,3", "4,5,6"]);
  assert.deepEqual(source.commits, [[{ topic: "t", partition: 0, offset: 1n }]]);
  h.release();
  await until(() => h.batches.length === 3, "the third flush");
  h.release();
  await c.drained();
  assert.deepEqual(source.commits.at(-1), [{ topic: "t", partition: 1, offset: 7n }]);
  await c.stop();
});

Deno.test("createCommitter() prepares a batch again when its preparation failed, and only then writes it", async () => {
  const source = fakeSource();
  let calls = 0;
  const written: string[] = [];
  const c = createCommitter<string>({
    source,
    prepare: () => ++calls === 1 ? Promise.reject(new Error("thread died")) : Promise.resolve("ok"),
    handle: (messages, p) => {
      written.push(`${p}:${messages.length}`);
      return Promise.resolve(OK);
    },
    policy: POLICY,
    retry: { minMs: 1, maxMs: 2, random: () => 0 },
    metrics: createWorkerMetrics(createRegistry()),
    logger: silentLogger,
  });
  c.add(rec(0, 0));
  await c.drained();
  assert.equal(calls, 2);
  assert.deepEqual(written, ["ok:1"]);
  assert.deepEqual(source.commits, [[{ topic: "t", partition: 0, offset: 1n }]]);
  await c.stop();
});

Deno.test("createCommitter() retries a failed batch with nothing committed, then commits it", async () => {
  const source = fakeSource();
  let calls = 0;
  const c = committer(source, () => {
    calls++;
    if (calls <= 2) {
      return Promise.reject(new WriteError("warehouse down", "retry", "08006"));
    }
    return Promise.resolve(OK);
  });
  c.add(rec(0, 10));
  await c.drained();
  assert.equal(calls, 3);
  assert.deepEqual(source.commits, [[{ topic: "t", partition: 0, offset: 11n }]]);
  await c.stop();
});

Deno.test("createCommitter() drops buffered records of a revoked partition and commits only owned partitions", async () => {
  const source = fakeSource();
  const h = gatedHandler();
  const c = committer(source, h.handle);
  c.add(rec(0, 1));
  c.add(rec(2, 1));
  await until(() => h.batches.length === 1, "the first flush");
  c.add(rec(2, 2)); // waits in the next buffer
  c.add(rec(1, 9));
  source.owned = new Set(["t:0", "t:1"]); // partition 2 moved to another member
  c.reassigned(source.owned);
  h.release();
  await until(() => h.batches.length === 2, "the second flush");
  assert.deepEqual(
    source.commits[0],
    [{ topic: "t", partition: 0, offset: 2n }],
    "not partition 2",
  );
  assert.deepEqual(h.batches[1]!.map((m) => `${m.partition}@${m.offset}`), ["1@9"]);
  h.release();
  await c.drained();
  await c.stop();
});

Deno.test("createCommitter() resumes fetching when a rebalance empties the full buffer it paused for", async () => {
  // A woken zombie: paused behind a sealed batch, then its partitions were taken away and the
  // full buffer emptied. Nothing else would seal, so nothing would resume the fetch: the
  // partitions it gets back would stay still while its heartbeats keep them.
  const source = fakeSource();
  const h = gatedHandler();
  const c = committer(source, h.handle, { flushRows: 2 });
  c.add(rec(0, 0));
  await until(() => h.batches.length === 1, "the first flush");
  for (let i = 1; i <= 4; i++) c.add(rec(2, i)); // one sealed batch ahead, one full buffer
  assert.equal(source.pauses, 1, "fetching paused");
  source.owned = new Set(["t:0", "t:1"]); // partition 2 moved to another member
  c.reassigned(source.owned);
  assert.equal(source.resumes, 1, "room again: fetching resumes at once");
  h.release();
  await until(() => h.batches.length === 2, "the sealed batch is written");
  h.release();
  c.add(rec(1, 5));
  await until(() => h.batches.length === 3, "a record fetched after the rebalance is written");
  h.release();
  await c.drained();
  assert.deepEqual(source.commits.at(-1), [{ topic: "t", partition: 1, offset: 6n }]);
  await c.stop();
});

Deno.test("createCommitter() without idle flushes waits for flushRows, and stop() writes the rest when asked", async () => {
  const source = fakeSource();
  const batches: number[] = [];
  const c = committer(source, (m) => {
    batches.push(m.length);
    return Promise.resolve(OK);
  }, { flushRows: 3, flushWhenIdle: false });
  c.add(rec(0, 1));
  c.add(rec(0, 2));
  await new Promise((r) => setTimeout(r, 5)); // several idle turns of the event loop
  assert.deepEqual(batches, [], "two records wait for the third");
  c.add(rec(0, 3));
  c.add(rec(0, 4));
  await until(() => batches.length === 1, "the full buffer");
  assert.deepEqual(batches, [3]);
  await c.stop({ flushRest: true });
  assert.deepEqual(batches, [3, 1]);
  assert.deepEqual(source.commits.at(-1), [{ topic: "t", partition: 0, offset: 5n }]);
});

Deno.test("createCommitter() never commits an offset lower than one it committed", async () => {
  const source = fakeSource();
  const c = committer(source, () => Promise.resolve(OK));
  c.add(rec(0, 8));
  await c.drained();
  c.add(rec(0, 3)); // read again after a rebalance
  await c.drained();
  assert.deepEqual(source.commits, [[{ topic: "t", partition: 0, offset: 9n }]]);
  await c.stop();
});

Deno.test("createCommitter() writes the next batch while an offset commit is on its way, and merges the offsets that pile up into one later commit", async () => {
  const source = fakeSource();
  const gates: (() => void)[] = [];
  source.commit = function (offsets) {
    this.commits.push([...offsets].sort((a, b) => a.partition - b.partition));
    return new Promise<void>((r) => gates.push(r));
  };
  const batches: string[][] = [];
  const c = committer(source, (messages) => {
    batches.push(messages.map((m) => `${m.partition}@${m.offset}`));
    return Promise.resolve(OK);
  });
  c.add(rec(0, 0));
  await until(() => source.commits.length === 1, "the first commit");
  c.add(rec(0, 1));
  c.add(rec(1, 0));
  await until(() => batches.length === 2, "the second flush");
  c.add(rec(0, 2));
  await until(() => batches.length === 3, "the third flush, with the first commit still open");
  assert.equal(source.commits.length, 1, "one commit in flight at a time");
  let drained = false;
  const draining = c.drained().then(() => drained = true);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(drained, false, "drained() waits for the offsets to reach Kafka");
  source.owned.delete("t:1"); // revoked while its offset waited
  gates.shift()!();
  await until(() => source.commits.length === 2, "the merged commit");
  assert.deepEqual(source.commits[1], [{ topic: "t", partition: 0, offset: 3n }]);
  gates.shift()!();
  await draining;
  await c.stop();
});

Deno.test("createCommitter().commitWaitingMs() counts from the commit's send until its answer, for /readyz", async () => {
  const source = fakeSource();
  const gates: (() => void)[] = [];
  source.commit = function (offsets) {
    this.commits.push([...offsets]);
    return new Promise<void>((r) => gates.push(r));
  };
  let clock = 1_000;
  const c = committer(source, () => Promise.resolve(OK), {}, {
    now: () => clock,
  });
  assert.equal(c.commitWaitingMs(), 0, "no commit yet");
  c.add(rec(0, 0));
  await until(() => source.commits.length === 1, "the commit to be sent");
  clock += 16_000;
  assert.equal(c.commitWaitingMs(), 16_000);
  gates.shift()!();
  await c.drained();
  assert.equal(c.commitWaitingMs(), 0, "answered");
  await c.stop();
});

Deno.test("createCommitter() never commits a held partition past its hold and drops its later records on arrival", async () => {
  const source = fakeSource();
  const holds = new PartitionHolds();
  const batches: string[][] = [];
  const c = createCommitter({
    source,
    holds,
    handle: (messages) => {
      batches.push(messages.map((m) => `${m.partition}@${m.offset}`));
      // The batch meets a record of a newer version at partition 0, offset 6.
      if (messages.some((m) => m.partition === 0 && m.offset === 6n)) {
        const hold = { topic: "t", partition: 0, offset: 6n, version: 9 };
        holds.hold(hold);
        return Promise.resolve({ ...OK, rows: 2, held: 2, newHolds: [hold] });
      }
      return Promise.resolve({ ...OK, rows: messages.length });
    },
    policy: POLICY,
    retry: { minMs: 1, maxMs: 2, random: () => 0 },
    metrics: createWorkerMetrics(createRegistry()),
    logger: silentLogger,
  });
  for (const r of [rec(0, 5), rec(0, 6), rec(1, 3), rec(0, 7)]) c.add(r);
  await c.drained();
  assert.deepEqual(source.commits, [[
    { topic: "t", partition: 0, offset: 6n },
    { topic: "t", partition: 1, offset: 4n },
  ]]);
  // Later records of partition 0 never reach a batch; partition 1's do.
  for (const r of [rec(0, 8), rec(1, 4), rec(0, 9)]) c.add(r);
  await c.drained();
  assert.deepEqual(batches.at(-1), ["1@4"]);
  assert.deepEqual(source.commits.at(-1), [{ topic: "t", partition: 1, offset: 5n }]);
  await c.stop();
});

/** A committer whose `onFatal` calls are kept, and whose log lines are too. */
function fatalCommitter(source: CommitterSource, handle: () => Promise<BatchOutcome>) {
  const fatal: [string, number][] = [];
  const lines: { msg: string; level: string }[] = [];
  const c = createCommitter({
    source,
    handle,
    policy: POLICY,
    retry: { minMs: 1, maxMs: 2, random: () => 0 },
    metrics: createWorkerMetrics(createRegistry()),
    logger: createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l)) }),
    onFatal: (reason, exitCode) => fatal.push([reason, exitCode]),
  });
  return { c, fatal, lines };
}

Deno.test("createCommitter() gives up after UNEXPECTED_FAILURE_LIMIT unexpected errors in a row: onFatal with exit 1, nothing committed or written after", async () => {
  const source = fakeSource();
  let calls = 0;
  const { c, fatal } = fatalCommitter(source, () => {
    calls++;
    return Promise.reject(new TypeError("a bug"));
  });
  c.add(rec(0, 0));
  await until(() => fatal.length > 0, "the fatal path");
  assert.equal(calls, UNEXPECTED_FAILURE_LIMIT, "retried, but not for ever");
  assert.deepEqual(fatal, [[
    `unexpected batch error ${UNEXPECTED_FAILURE_LIMIT} times in a row`,
    1,
  ]]);
  c.add(rec(0, 1));
  await c.drained();
  await c.stop({ flushRest: true });
  assert.equal(calls, UNEXPECTED_FAILURE_LIMIT, "nothing after the batch given up is written");
  assert.deepEqual(source.commits, []);
});

Deno.test("createCommitter() counts unexpected errors only in a row: a successful write starts the count again", async () => {
  const source = fakeSource();
  const results = [
    ...Array(UNEXPECTED_FAILURE_LIMIT - 1).fill("bug"),
    "ok",
    ...Array(UNEXPECTED_FAILURE_LIMIT - 1).fill("bug"),
    "ok",
  ];
  const { c, fatal } = fatalCommitter(
    source,
    () => results.shift() === "ok" ? Promise.resolve(OK) : Promise.reject(new TypeError("a bug")),
  );
  c.add(rec(0, 0));
  await c.drained();
  c.add(rec(0, 1));
  await c.drained();
  assert.deepEqual(fatal, []);
  assert.deepEqual(source.commits, [
    [{ topic: "t", partition: 0, offset: 1n }],
    [{ topic: "t", partition: 0, offset: 2n }],
  ]);
  await c.stop();
});

Deno.test("createCommitter() retries an outage without a bound: only unexpected errors count", async () => {
  const source = fakeSource();
  let calls = 0;
  const { c, fatal } = fatalCommitter(
    source,
    () =>
      ++calls <= UNEXPECTED_FAILURE_LIMIT * 2
        ? Promise.reject(new WriteError("warehouse down", "retry", "08006"))
        : Promise.resolve(OK),
  );
  c.add(rec(0, 0));
  await c.drained();
  assert.deepEqual(fatal, []);
  assert.deepEqual(source.commits, [[{ topic: "t", partition: 0, offset: 1n }]]);
  await c.stop();
});

Deno.test("createCommitter() takes the fatal path at once on a stop decision, with its exit code", async () => {
  for (
    const [err, exitCode] of [
      [new ConfigError([{ variable: "X", message: "bad" }]), 2],
      [new KafkaSetupError("Topic t-dlq does not exist"), 1],
      [new TableSchemaError("column email is integer"), 1],
    ] as const
  ) {
    const source = fakeSource();
    let calls = 0;
    const { c, fatal } = fatalCommitter(source, () => (calls++, Promise.reject(err)));
    c.add(rec(0, 0));
    await until(() => fatal.length > 0, "the fatal path");
    assert.equal(calls, 1, `${err.name}: not retried`);
    const kind = err instanceof TableSchemaError ? "table_schema" : "configuration";
    assert.deepEqual(fatal, [[`batch failed: ${kind}`, exitCode]], err.name);
    await c.stop({ flushRest: true });
    assert.deepEqual(source.commits, []);
  }
});

Deno.test("createCommitter() logs refused rows that reach it (isolate) as a bug, and retries them", async () => {
  const source = fakeSource();
  let calls = 0;
  const { c, fatal, lines } = fatalCommitter(
    source,
    () =>
      ++calls === 1
        ? Promise.reject(new WriteError("violates check constraint", "isolate", "23514"))
        : Promise.resolve(OK),
  );
  c.add(rec(0, 0));
  await c.drained();
  const bug = lines.find((l) => l.msg.startsWith("bug:"));
  assert.equal(bug?.level, "error", JSON.stringify(lines));
  assert.deepEqual(fatal, []);
  assert.deepEqual(source.commits, [[{ topic: "t", partition: 0, offset: 1n }]]);
  await c.stop();
});

Deno.test("createCommitter() at shutdown commits nothing past a batch it abandoned, even when the batch behind it could be written", async () => {
  const source = fakeSource();
  let down = true;
  const written: string[] = [];
  const c = committer(source, (messages) => {
    if (down) return Promise.reject(new WriteError("warehouse down", "retry", "08006"));
    written.push(messages.map((m) => `${m.partition}@${m.offset}`).join(","));
    return Promise.resolve(OK);
  });
  c.add(rec(0, 0)); // written, fails, waits for its retry
  await new Promise((r) => setTimeout(r, 0));
  c.add(rec(0, 1)); // sealed behind it
  down = false; // the warehouse is back just as the worker stops
  await c.stop({ flushRest: true });
  assert.deepEqual(written, [], "0@1 must not be written and committed while 0@0 is not");
  assert.deepEqual(source.commits, []);
});

Deno.test("createCommitter() with commitIntervalMs writes every batch but commits at most once per interval, merged; stop() sends what waits", async () => {
  let clock = 1_000;
  const timers: { fn: () => void; cancelled: boolean }[] = [];
  const source = fakeSource();
  const batches: number[] = [];
  const c = committer(
    source,
    (messages) => {
      batches.push(messages.length);
      return Promise.resolve({ ...OK, rows: messages.length });
    },
    {},
    {
      now: () => clock,
      commitIntervalMs: 1_000,
      timer: (fn) => {
        const t = { fn, cancelled: false };
        timers.push(t);
        return () => t.cancelled = true;
      },
    },
  );
  c.add(rec(0, 0));
  await until(() => source.commits.length === 1, "the first commit, at once");
  for (let i = 1; i <= 3; i++) {
    c.add(rec(i % 2, i));
    await until(() => batches.length === i + 1, `flush ${i + 1}`);
  }
  await until(() => timers.some((t) => !t.cancelled), "the offsets waiting for the interval");
  assert.equal(source.commits.length, 1, "four flushes, one commit within the interval");
  clock += 1_000;
  for (const t of timers.splice(0)) if (!t.cancelled) t.fn();
  await c.drained();
  assert.deepEqual(source.commits[1], [
    { topic: "t", partition: 0, offset: 3n },
    { topic: "t", partition: 1, offset: 4n },
  ]);
  c.add(rec(0, 9));
  await until(() => batches.length === 5, "the last flush");
  await until(() => timers.some((t) => !t.cancelled), "its offsets waiting");
  await c.stop();
  assert.deepEqual(source.commits.at(-1), [{ topic: "t", partition: 0, offset: 10n }]);
  assert.equal(source.commits.length, 3, "stop() committed at once");
});
