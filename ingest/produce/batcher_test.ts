import assert from "node:assert/strict";
import { type BatcherOptions, createBatcher } from "./batcher.ts";
import type { OutgoingMessage } from "./port.ts";
import { ProduceError } from "./produce_error.ts";
import { fakeLanes, FakeProducer } from "../../testing/fakes.ts";
import { waitUntil } from "../../testing/wait.ts";

const OPTS: BatcherOptions = {
  lingerMs: 5,
  maxBatchMessages: 100,
  maxBatchBytes: 1_000_000,
  maxBufferBytes: 10_000,
  ackTimeoutMs: 5_000,
};

const msg = (key: string, size = 10): OutgoingMessage => ({
  key,
  value: new Uint8Array(size),
});

async function rejectsWith(p: Promise<unknown>, reason: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ProduceError, `expected ProduceError, got ${err}`);
    assert.equal(err.reason, reason);
    return true;
  });
}

Deno.test("createBatcher() sends concurrent callers' messages in one send", async () => {
  const producer = new FakeProducer();
  const batcher = createBatcher(producer, OPTS);
  await Promise.all([
    batcher.enqueue([msg("a")]),
    batcher.enqueue([msg("b"), msg("c")]),
    batcher.enqueue([msg("d")]),
  ]);
  assert.deepEqual(producer.sends.map((s) => s.map((m) => m.key)), [["a", "b", "c", "d"]]);
  await batcher.close();
});

Deno.test("createBatcher() resolves a caller only after its messages are acknowledged", async () => {
  const producer = new FakeProducer();
  const gate = Promise.withResolvers<void>();
  producer.hold = gate.promise;
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 0 });
  let done = false;
  const p = batcher.enqueue([msg("a")]).then(() => done = true);
  assert.equal(producer.sends.length, 1, "sent at once with lingerMs 0");
  assert.equal(done, false, "not resolved before the acknowledgement");
  gate.resolve();
  await p;
  assert.equal(done, true);
  await batcher.close();
});

Deno.test("createBatcher() splits at maxBatchMessages and sends the rest after the first ack", async () => {
  const producer = new FakeProducer();
  const batcher = createBatcher(producer, { ...OPTS, maxBatchMessages: 3 });
  const keys = ["a", "b", "c", "d", "e", "f", "g"];
  await batcher.enqueue(keys.map((k) => msg(k)));
  assert.deepEqual(producer.sends.map((s) => s.map((m) => m.key)), [
    ["a", "b", "c"],
    ["d", "e", "f"],
    ["g"],
  ]);
  await batcher.close();
});

Deno.test("createBatcher() rejects every caller of a failed send with kafka_unavailable", async () => {
  const producer = new FakeProducer();
  producer.fail = new Error("broker down");
  const batcher = createBatcher(producer, OPTS);
  const results = await Promise.allSettled([
    batcher.enqueue([msg("a")]),
    batcher.enqueue([msg("b")]),
  ]);
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.ok(r.reason instanceof ProduceError);
    assert.equal(r.reason.reason, "kafka_unavailable");
    assert.match(r.reason.message, /broker down/);
  }
  assert.equal(batcher.stats().lastSendOk, false);
  assert.equal(batcher.stats().bufferedBytes, 0, "the failed messages' room is given back");
  await batcher.close();
});

Deno.test("createBatcher() refuses messages that do not fit in the buffer, without queuing them", async () => {
  const producer = new FakeProducer();
  const gate = Promise.withResolvers<void>();
  producer.hold = gate.promise;
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 0, maxBufferBytes: 200 });
  const first = batcher.enqueue([msg("a", 150)]);
  await rejectsWith(batcher.enqueue([msg("b", 100)]), "buffer_full");
  assert.equal(batcher.stats().queuedMessages, 0);
  gate.resolve();
  await first;
  await batcher.enqueue([msg("c", 100)]);
  assert.deepEqual(producer.messages.map((m) => m.key), ["a", "c"]);
  await batcher.close();
});

Deno.test("createBatcher() times out a caller and never sends its queued messages", async () => {
  const producer = new FakeProducer();
  const gate = Promise.withResolvers<void>();
  producer.hold = gate.promise;
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 0, ackTimeoutMs: 100 });
  const first = batcher.enqueue([msg("a")]);
  const second = batcher.enqueue([msg("b")]); // queued behind the stuck send
  await rejectsWith(first, "timeout");
  await rejectsWith(second, "timeout");
  // Once the send is stuck for longer than the timeout, new callers are refused at once.
  await waitUntil(() => batcher.stats().stalled, 5_000, "the batcher to notice the stuck send");
  await rejectsWith(batcher.enqueue([msg("c")]), "kafka_unavailable");
  gate.resolve();
  await batcher.flush();
  assert.deepEqual(producer.messages.map((m) => m.key), ["a"], "b was dropped from the queue");
  await batcher.enqueue([msg("d")]);
  assert.deepEqual(producer.messages.map((m) => m.key), ["a", "d"], "recovered");
  await batcher.close();
});

Deno.test("createBatcher() flushes queued messages on close and then refuses new ones", async () => {
  const producer = new FakeProducer();
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 1000 });
  const p = batcher.enqueue([msg("a")]);
  await batcher.close();
  await p;
  assert.deepEqual(producer.messages.map((m) => m.key), ["a"]);
  await rejectsWith(batcher.enqueue([msg("b")]), "shutting_down");
});

Deno.test("createBatcher() reports each send to its observer", async () => {
  const producer = new FakeProducer();
  const seen: [number, boolean][] = [];
  const batcher = createBatcher(producer, OPTS, {
    observer: { batchSent: (n, _b, _s, ok) => seen.push([n, ok]) },
  });
  await batcher.enqueue([msg("a"), msg("b")]);
  assert.deepEqual(seen, [[2, true]]);
  await batcher.close();
});

// Lanes: keys `a…` go to broker 1, `b…` to broker 2 (see fakeLanes).
const LANES = { a1: 1, a2: 1, a3: 1, b1: 2, b2: 2, b3: 2 };

/** A producer whose sends to lane 1 (keys `a…`) hang until `release`. */
function hungLaneOne() {
  const producer = new FakeProducer();
  const gate = Promise.withResolvers<void>();
  gate.promise.catch(() => {}); // failed before the first send awaits it: not unhandled
  producer.holdWhere = { match: (m) => m.key.startsWith("a"), until: gate.promise };
  return { producer, release: gate.resolve, fail: gate.reject };
}

const keysOf = (producer: FakeProducer) => producer.sends.map((s) => s.map((m) => m.key));

Deno.test("createBatcher() sends each lane on its own and acknowledges other lanes while one hangs", async () => {
  const { producer, release } = hungLaneOne();
  const batcher = createBatcher(producer, OPTS, { lanes: fakeLanes(LANES) });
  let hungDone = false;
  const hung = batcher.enqueue([msg("a1")]).then(() => hungDone = true);
  await batcher.enqueue([msg("b1")]);
  await batcher.enqueue([msg("b2"), msg("b3")]);
  assert.deepEqual(keysOf(producer), [["a1"], ["b1"], ["b2", "b3"]]);
  assert.equal(hungDone, false, "lane 1 is still waiting for its broker");
  const s = batcher.stats();
  assert.deepEqual(
    s.lanes.map((l) => [l.lane, l.inFlight]),
    [[1, true], [2, false]],
  );
  assert.equal(s.inFlight, true);
  release();
  await hung;
  assert.equal(hungDone, true);
  await batcher.close();
});

Deno.test("createBatcher() times out a hung lane's callers and refuses its new messages at once, while other lanes accept", async () => {
  const { producer, release } = hungLaneOne();
  const lanes = fakeLanes(LANES);
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 0, ackTimeoutMs: 100 }, { lanes });
  const first = batcher.enqueue([msg("a1")]);
  const queuedBehind = batcher.enqueue([msg("a2")]);
  await rejectsWith(first, "timeout");
  await rejectsWith(queuedBehind, "timeout");
  await waitUntil(
    () => batcher.stats().stalledLanes.includes(1),
    5_000,
    "lane 1 to count as stalled",
  );
  await assert.rejects(batcher.enqueue([msg("a3")]), (err: unknown) => {
    assert.ok(err instanceof ProduceError);
    assert.equal(err.reason, "kafka_unavailable");
    assert.match(err.message, /broker 1 has not acknowledged/);
    return true;
  });
  assert.deepEqual(lanes.stalledReports, [1], "the router is told, to look for moved leaders");
  // A request that needs the stalled lane for one of its users is refused whole.
  await rejectsWith(batcher.enqueue([msg("b1"), msg("a3")]), "kafka_unavailable");
  await batcher.enqueue([msg("b2")]);
  const s = batcher.stats();
  assert.deepEqual(s.stalledLanes, [1]);
  assert.equal(s.stalled, false, "one stalled lane of two does not stall the batcher");
  assert.deepEqual(keysOf(producer), [["a1"], ["b2"]], "a2 and b1 were never sent");
  release();
  await batcher.flush();
  await batcher.enqueue([msg("a3")]);
  assert.deepEqual(keysOf(producer), [["a1"], ["b2"], ["a3"]], "lane 1 recovered");
  await batcher.close();
});

Deno.test("createBatcher() reports stalled only when every current lane is", async () => {
  const producer = new FakeProducer();
  const gate = Promise.withResolvers<void>();
  producer.hold = gate.promise; // every broker hangs
  const batcher = createBatcher(producer, { ...OPTS, ackTimeoutMs: 50 }, {
    lanes: fakeLanes(LANES),
  });
  const results = Promise.allSettled([
    batcher.enqueue([msg("a1")]),
    batcher.enqueue([msg("b1")]),
  ]);
  await waitUntil(() => batcher.stats().stalled, 5_000, "both lanes to stall");
  assert.deepEqual(batcher.stats().stalledLanes, [1, 2]);
  gate.resolve();
  assert.deepEqual((await results).map((r) => r.status), ["rejected", "rejected"]);
  await batcher.close();
});

Deno.test("createBatcher() answers a request spanning lanes when every lane acknowledged", async () => {
  const { producer, release } = hungLaneOne();
  const batcher = createBatcher(producer, OPTS, { lanes: fakeLanes(LANES) });
  let done = false;
  const both = batcher.enqueue([msg("b1"), msg("a1"), msg("b2")]).then(() => done = true);
  await waitUntil(() => producer.sends.length === 2, 5_000, "a send in each lane");
  assert.deepEqual(keysOf(producer).sort(), [["a1"], ["b1", "b2"]]);
  await batcher.enqueue([msg("b3")]); // lane 2 has answered meanwhile
  assert.equal(done, false, "not before lane 1 acknowledged a1");
  release();
  await both;
  await batcher.close();
});

Deno.test("createBatcher() fails a request spanning lanes when one lane's send fails", async () => {
  const { producer, fail } = hungLaneOne();
  const batcher = createBatcher(producer, OPTS, { lanes: fakeLanes(LANES) });
  const both = batcher.enqueue([msg("a1"), msg("b1")]);
  fail(new Error("broker 1 down"));
  await assert.rejects(both, (err: unknown) => {
    assert.ok(err instanceof ProduceError);
    assert.equal(err.reason, "kafka_unavailable");
    assert.match(err.message, /broker 1 down/);
    return true;
  });
  await batcher.enqueue([msg("b2")]);
  assert.equal(batcher.stats().bufferedBytes, 0);
  await batcher.close();
});

Deno.test("createBatcher() sends a partition that moved lanes on its new lane, queued messages first", async () => {
  const { producer, release } = hungLaneOne();
  const lanes = fakeLanes({ ...LANES, u: 1 });
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 0 }, { lanes });
  const hung = batcher.enqueue([msg("a1")]); // lane 1's send hangs
  const older = batcher.enqueue([msg("u", 1)]); // queued in lane 1 behind it
  assert.equal(batcher.stats().lanes.find((l) => l.lane === 1)?.queuedMessages, 1);
  lanes.move("u", 2); // its partition's leader moved to broker 2
  const newer = batcher.enqueue([msg("u", 2)]);
  await Promise.all([older, newer]);
  assert.deepEqual(
    producer.messages.slice(1).map((m) => `${m.key}:${m.value.length}`),
    ["u:1", "u:2"],
    "both sent (on lane 2: lane 1 still hangs), in the order they were accepted",
  );
  assert.equal(batcher.stats().lanes.find((l) => l.lane === 1)?.queuedMessages, 0);
  release();
  await hung;
  await batcher.close();
});

Deno.test("createBatcher() counts every lane against one buffer", async () => {
  const { producer, release } = hungLaneOne();
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 0, maxBufferBytes: 200 }, {
    lanes: fakeLanes(LANES),
  });
  const first = batcher.enqueue([msg("a1", 150)]);
  await rejectsWith(batcher.enqueue([msg("b1", 100)]), "buffer_full");
  await batcher.enqueue([msg("b2", 10)]);
  release();
  await first;
  await batcher.close();
});

Deno.test("createBatcher() flushes and closes only once every lane is done", async () => {
  const { producer, release } = hungLaneOne();
  const batcher = createBatcher(producer, { ...OPTS, lingerMs: 1000 }, {
    lanes: fakeLanes(LANES),
  });
  const a = batcher.enqueue([msg("a1")]);
  const b = batcher.enqueue([msg("b1")]);
  let closed = false;
  const closing = batcher.close().then(() => closed = true);
  await b; // lane 2 was sent at close without waiting for its linger
  assert.equal(closed, false, "lane 1 is still in flight");
  await rejectsWith(batcher.enqueue([msg("b2")]), "shutting_down");
  release();
  await Promise.all([a, closing]);
  assert.equal(closed, true);
  assert.deepEqual(keysOf(producer).sort(), [["a1"], ["b1"]]);
});
