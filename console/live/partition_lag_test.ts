import assert from "node:assert/strict";
import { fakeKafkaSource } from "../../testing/fakes.ts";
import { createLagReader } from "./partition_lag.ts";

Deno.test("lag in seconds is the age of the record at the committed offset, 0 when caught up", async () => {
  const kafka = fakeKafkaSource(["t"], 2);
  for (let i = 0; i < 5; i++) kafka.append("t", 0, { timestamp: 10_000 + i * 1_000 });
  kafka.append("t", 1, { timestamp: 1_000 });
  kafka.commits.set("g t", new Map([[0, 2n], [1, 1n]]));
  const reader = createLagReader(kafka, "t");
  const { time, lag } = await reader.lag(
    await kafka.offsets("t"),
    await kafka.committed("g", "t"),
    () => 20_000,
  );
  assert.equal(time, 20_000);
  assert.deepEqual(lag, [
    // records at 2, 3, 4 wait; the oldest, at offset 2, was written at 12 s
    { partition: 0, end: "5", committed: "2", records: 3, seconds: 8 },
    { partition: 1, end: "1", committed: "1", records: 0, seconds: 0 },
  ]);
  await reader.lag(await kafka.offsets("t"), await kafka.committed("g", "t"), () => 21_000);
  assert.deepEqual(kafka.reads, ["t/0@2"], "the record at one committed offset is read once");
});

Deno.test("lag counts from the partition's start when the group has committed nothing", async () => {
  const kafka = fakeKafkaSource(["t"], 1);
  kafka.topics.get("t")![0]!.start = 10n;
  kafka.append("t", 0, { timestamp: 5_000 });
  kafka.append("t", 0, { timestamp: 6_000 });
  const { lag } = await createLagReader(kafka, "t").lag(
    await kafka.offsets("t"),
    new Map(),
    () => 9_500,
  );
  assert.deepEqual(lag, [{ partition: 0, end: "12", committed: "10", records: 2, seconds: 4.5 }]);
});

Deno.test("lag in seconds is measured by a clock read after the record, never before it", async () => {
  const kafka = fakeKafkaSource(["t"], 1);
  kafka.append("t", 0, { timestamp: 5_000 });
  const reads: number[] = [];
  const clock = () => (reads.push(kafka.reads.length), 5_250);
  const { time, lag } = await createLagReader(kafka, "t").lag(
    await kafka.offsets("t"),
    new Map(),
    clock,
  );
  assert.deepEqual(reads, [1], "the clock is read once, after the record");
  assert.equal(time, 5_250);
  assert.equal(lag[0]!.seconds, 0.25);
});
