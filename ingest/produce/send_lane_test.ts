import assert from "node:assert/strict";
import { type Entry, SendLane, type SendLimits, type Ticket } from "./send_lane.ts";

const LIMITS: SendLimits = { lingerMs: 5, maxBatchMessages: 3, maxBatchBytes: 100 };

function ticket(): Ticket {
  return {
    remaining: 0,
    queued: 0,
    entries: [],
    settled: false,
    resolve() {},
    reject() {},
    deadline: undefined,
  };
}

/** Queues one entry of `bytes` for a new or given ticket. */
function add(lane: SendLane, bytes: number, t = ticket()): Entry {
  const e: Entry = {
    message: { key: "k", value: new Uint8Array(bytes) },
    bytes,
    ticket: t,
    lane,
  };
  t.entries.push(e);
  t.queued++;
  t.remaining++;
  lane.push(e);
  return e;
}

Deno.test("SendLane sends at once a full batch (messages or bytes), without lingering, or when closing", () => {
  const byCount = new SendLane(1, () => {});
  for (let i = 0; i < 3; i++) add(byCount, 1);
  assert.equal(byCount.nextStep(LIMITS, false), "send");
  const byBytes = new SendLane(1, () => {});
  add(byBytes, 100);
  assert.equal(byBytes.nextStep(LIMITS, false), "send");
  const small = new SendLane(1, () => {});
  add(small, 1);
  assert.equal(small.nextStep({ ...LIMITS, lingerMs: 0 }, false), "send");
  assert.equal(small.nextStep(LIMITS, true), "send");
  assert.equal(new SendLane(1, () => {}).nextStep(LIMITS, false), "empty");
});

Deno.test("SendLane lingers once for a small batch, then asks the batcher to send it", async () => {
  const sent: number[] = [];
  const lane = new SendLane(7, (l) => sent.push(l.id));
  add(lane, 1);
  assert.equal(lane.nextStep(LIMITS, false), "linger");
  assert.equal(lane.nextStep(LIMITS, false), "linger", "one timer, not two");
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(sent, [7]);
  lane.clearLinger();
});

Deno.test("SendLane.take() takes live entries in order up to the limits, at least one, and skips dead ones", () => {
  const lane = new SendLane(1, () => {});
  const gone = ticket();
  const dead = add(lane, 10, gone);
  gone.settled = true;
  lane.drop(dead);
  const a = add(lane, 60);
  const b = add(lane, 60);
  assert.equal(lane.live, 2);
  const first = lane.take(LIMITS);
  assert.deepEqual(first.batch, [a], "b would pass maxBatchBytes");
  assert.equal(first.bytes, 60);
  assert.equal(dead.lane, null);
  const big = lane.take({ ...LIMITS, maxBatchBytes: 10 });
  assert.deepEqual(big.batch, [b], "one entry even when larger than the limit");
  assert.equal(lane.queue.length, 0);
  assert.equal(lane.queuedBytes, 0);
});

Deno.test("SendLane drops the entries of a settled ticket from its room, and compact() removes them", () => {
  const lane = new SendLane(1, () => {});
  const t = ticket();
  const e = add(lane, 40, t);
  add(lane, 10);
  t.settled = true;
  lane.drop(e);
  assert.equal(lane.queuedBytes, 10);
  assert.equal(lane.live, 1);
  lane.compact();
  assert.equal(lane.queue.length, 1);
  assert.equal(lane.dead, 0);
  assert.equal(e.lane, null);
});
