import assert from "node:assert/strict";
import { partitionForKey } from "../../shared/kafka/partition_for_key.ts";
import { createLogger, type LogFields } from "../../shared/logger.ts";
import { createLeaderLanes } from "./leader_lanes.ts";
import { ONE_LANE, type OutgoingMessage } from "./port.ts";

const msg = (key: string): OutgoingMessage => ({ key, value: new Uint8Array(1) });

const KEYS = Array.from(
  { length: 50 },
  (_, i) => `6a1f2c3d-0000-4000-8000-${String(i).padStart(12, "0")}`,
);

/** A leaders reader the test answers: `next` is the map, or an error to throw. */
function reader(first: number[] | Error) {
  const r = {
    next: first as number[] | Error,
    reads: 0,
    read: () => {
      r.reads++;
      return r.next instanceof Error ? Promise.reject(r.next) : Promise.resolve([...r.next]);
    },
  };
  return r;
}

function capturingLogger() {
  const lines: LogFields[] = [];
  const logger = createLogger({ level: "debug", write: (line) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

Deno.test("createLeaderLanes() puts every key in one lane until the leaders are known", () => {
  const lanes = createLeaderLanes(reader([1, 2, 3]).read);
  const message = msg(KEYS[0]!);
  assert.equal(lanes.laneOf(message), ONE_LANE);
  assert.equal(message.partition, undefined, "the client hashes the key itself");
  assert.deepEqual(lanes.current(), [ONE_LANE]);
});

Deno.test("createLeaderLanes() gives each key the leader of the partition the producer writes it to", async () => {
  const leaders = [3, 1, 2, 3, 1, -1];
  const lanes = createLeaderLanes(reader(leaders).read);
  const before = lanes.version();
  await lanes.refresh();
  assert.notEqual(lanes.version(), before);
  for (const key of KEYS) {
    const leader = leaders[partitionForKey(key, 6)]!;
    const message = msg(key);
    assert.equal(lanes.laneOf(message), leader < 0 ? ONE_LANE : leader, key);
    // What the client takes modulo the partition count: the partition partitionForKey names.
    assert.equal(message.partition! % 6, partitionForKey(key, 6), key);
    assert.equal(message.partition! % 5, partitionForKey(key, 5), key);
  }
  assert.deepEqual(lanes.current(), [ONE_LANE, 1, 2, 3], "a leaderless partition takes ONE_LANE");
});

Deno.test("createLeaderLanes() follows a moved leader and keeps the last map when a read fails", async () => {
  const r = reader([1, 2, 3]);
  const { logger, lines } = capturingLogger();
  const lanes = createLeaderLanes(r.read, { logger });
  await lanes.refresh();
  const known = lanes.version();
  await lanes.refresh();
  assert.equal(lanes.version(), known, "the same map is no change");

  r.next = new Error("No metadata for user_created within 2000 ms");
  await lanes.refresh();
  await lanes.refresh();
  assert.equal(lanes.version(), known);
  const key = KEYS.find((k) => partitionForKey(k, 3) === 0)!;
  assert.equal(lanes.laneOf(msg(key)), 1, "still the last known leader");
  const warnings = lines.filter((l) => l.level === "warn");
  assert.equal(warnings.length, 1, "one warning per run of failures");
  assert.match(String(warnings[0]!.error), /No metadata/);

  r.next = [2, 2, 3]; // partition 0 moved from broker 1 to broker 2
  await lanes.refresh();
  assert.notEqual(lanes.version(), known);
  assert.equal(lanes.laneOf(msg(key)), 2);
  assert.deepEqual(lanes.current(), [2, 3]);
});

Deno.test("createLeaderLanes() reads at once when a lane stalls, at most every stalledRefreshMs", async () => {
  const r = reader([1, 2, 3]);
  let t = 0;
  const lanes = createLeaderLanes(r.read, {
    refreshMs: 60_000,
    stalledRefreshMs: 1_000,
    now: () => t,
  });
  lanes.stalled(1);
  assert.equal(r.reads, 0, "not started: no reads");
  lanes.start();
  await lanes.refresh(); // the first read, shared with start()'s
  assert.equal(r.reads, 1);
  t = 500;
  lanes.stalled(1);
  assert.equal(r.reads, 1, "too soon after the last read");
  t = 1_000;
  lanes.stalled(1);
  assert.equal(r.reads, 2, "read at once");
  await lanes.refresh(); // the same read
  assert.equal(r.reads, 2);
  lanes.close();
  t = 5_000;
  lanes.stalled(1);
  assert.equal(r.reads, 2, "closed: no reads");
});
