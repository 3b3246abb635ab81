import assert from "node:assert/strict";
import { type FlushPolicy, SealPolicy } from "./seal_policy.ts";

const POLICY: FlushPolicy = { flushRows: 3, flushBytes: 100, flushMs: 1_000, flushWhenIdle: false };

function policy(over: Partial<FlushPolicy> = {}, waiting = () => 0) {
  let clock = 0;
  const events: string[] = [];
  const p = new SealPolicy({ ...POLICY, ...over }, {
    now: () => clock,
    waiting,
    seal: () => events.push("seal"),
    recheck: () => events.push("recheck"),
  });
  return { p, events, advance: (ms: number) => clock += ms, now: () => clock };
}

const turn = () => new Promise((r) => setTimeout(r, 0));

Deno.test("SealPolicy seals at once a buffer at flushRows or flushBytes, and never an empty one", () => {
  const { p, events } = policy();
  p.consider({ records: 0, bytes: 0, since: 0 });
  p.consider({ records: 3, bytes: 10, since: 0 });
  p.consider({ records: 1, bytes: 100, since: 0 });
  assert.deepEqual(events, ["seal", "seal"]);
  assert.equal(p.full({ records: 2, bytes: 99, since: 0 }), false);
  p.clear();
});

Deno.test("SealPolicy seals a buffer flushMs after its first record", () => {
  const { p, events, advance } = policy();
  p.consider({ records: 1, bytes: 1, since: 0 });
  assert.deepEqual(events, [], "young and small: later");
  advance(1_000);
  p.consider({ records: 1, bytes: 1, since: 0 });
  assert.deepEqual(events, ["seal"]);
  p.clear();
});

Deno.test("SealPolicy asks for a recheck when the buffer's age is due", async () => {
  const { p, events } = policy({ flushMs: 5 });
  p.consider({ records: 1, bytes: 1, since: 0 });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(events, ["recheck"]);
  p.clear();
});

Deno.test("SealPolicy with flushWhenIdle seals on the next turn when nothing is waiting, else looks again", async () => {
  let waiting = 0;
  const { p, events } = policy({ flushWhenIdle: true }, () => waiting);
  p.consider({ records: 1, bytes: 1, since: 0 });
  p.consider({ records: 2, bytes: 2, since: 0 }); // one idle check for records that came together
  assert.deepEqual(events, []);
  await turn();
  assert.deepEqual(events, ["seal"]);
  waiting = 5;
  p.consider({ records: 1, bytes: 1, since: 0 });
  await turn();
  assert.deepEqual(events, ["seal", "recheck"]);
  p.clear();
});

Deno.test("SealPolicy.clear() cancels the timers", async () => {
  const { p, events } = policy({ flushMs: 5, flushWhenIdle: true });
  p.consider({ records: 1, bytes: 1, since: 0 });
  p.clear();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(events, []);
});
