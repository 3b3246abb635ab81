import assert from "node:assert/strict";
import { fakeKafkaSource } from "../../testing/fakes.ts";
import { scanBackwards, type ScanProgress } from "./scan_backwards.ts";

function tenRecords() {
  const kafka = fakeKafkaSource(["t"], 2);
  for (let i = 0; i < 10; i++) kafka.append("t", 0, { timestamp: i });
  return kafka;
}

const options = { topic: "t", partitions: [0], maxRecords: 100, maxMs: 60_000, chunk: 3 };

Deno.test("scanBackwards() reports its progress before the first read and after each step back", async () => {
  const kafka = tenRecords();
  let t = 1_000;
  const seen: ScanProgress[] = [];
  const summary = await scanBackwards(kafka, {
    ...options,
    now: () => (t += 5),
    onProgress: (p) => seen.push(p),
  }, () => false);
  assert.deepEqual(summary, { records: 10, stoppedBy: "done" });
  assert.deepEqual(
    seen.map((p) => [p.records, p.partitions[0]!.reached]),
    [[0, 10n], [3, 7n], [6, 4n], [9, 1n], [10, 0n]],
  );
  assert.deepEqual(seen[0], {
    topic: "t",
    records: 0,
    maxRecords: 100,
    elapsedMs: 5,
    maxMs: 60_000,
    partitions: [{ partition: 0, start: 0n, reached: 10n, end: 10n }],
  });
  assert.ok(seen.every((p, i) => i === 0 || p.elapsedMs > seen[i - 1]!.elapsedMs), "by the clock");
});

Deno.test("scanBackwards() stops at the next read once aborted, and rejects with the reason", async () => {
  const kafka = tenRecords();
  const cancel = new AbortController();
  const visited: bigint[] = [];
  await assert.rejects(
    scanBackwards(kafka, { ...options, now: Date.now, signal: cancel.signal }, (r) => {
      visited.push(r.offset);
      if (r.offset === 8n) cancel.abort(new Error("cancelled by the page"));
      return false;
    }),
    { message: "cancelled by the page" },
  );
  assert.deepEqual(kafka.reads, ["t/0@7"], "no read after the abort");
  assert.deepEqual(visited, [9n, 8n, 7n], "the records already read are visited");
});

Deno.test("scanBackwards() aborted during a read makes no further read", async () => {
  const kafka = tenRecords();
  const cancel = new AbortController();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let reads = 0;
  const slow = {
    ...kafka,
    read: async (...args: Parameters<typeof kafka.read>) => {
      reads++;
      await held;
      return kafka.read(...args);
    },
  };
  const visited: bigint[] = [];
  const scan = scanBackwards(
    slow,
    {
      ...options,
      now: Date.now,
      signal: cancel.signal,
      onProgress: (p) => {
        // The first report comes before the first read: the page is told the scan started.
        if (p.records === 0) queueMicrotask(() => cancel.abort());
      },
    },
    (r) => (visited.push(r.offset), false),
  );
  const rejected = assert.rejects(scan, { name: "AbortError" });
  await Promise.resolve();
  release();
  await rejected;
  assert.equal(reads, 1, "the read in flight finishes; none follows");
  assert.deepEqual(visited, [], "nothing read after the abort is visited");
});

Deno.test("scanBackwards() with an aborted signal reads nothing at all", async () => {
  const kafka = tenRecords();
  await assert.rejects(
    scanBackwards(kafka, { ...options, now: Date.now, signal: AbortSignal.abort() }, () => false),
    { name: "AbortError" },
  );
  assert.deepEqual(kafka.reads, []);
});
