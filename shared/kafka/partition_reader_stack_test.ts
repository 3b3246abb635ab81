import assert from "node:assert/strict";
import { sharedStack } from "../../stack/harness.ts";
import { testKafka } from "../../testing/kafka.ts";
import { partitionForKey } from "./partition_for_key.ts";
import { createPartitionReader } from "./partition_reader.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("partitionForKey() names the partition our producer put each key in, and the reader reads it from an offset", async () => {
  const kafka = testKafka((await sharedStack()).KAFKA_BROKERS);
  const topic = await kafka.createTopic("reader", 6);
  const reader = createPartitionReader(kafka.connection);
  try {
    const keys = Array.from(
      { length: 30 },
      (_, i) => `6a1f2c3d-0000-4000-8000-${String(i).padStart(12, "0")}`,
    );
    await kafka.produce(
      topic,
      keys.map((key, i) => ({
        key,
        value: bytes(`{"i":${i}}`),
        headers: { traceparent: `00-${String(i).padStart(32, "0")}-0000000000000001-01` },
      })),
    );
    const written = await kafka.readTopic(topic);
    assert.equal(written.length, 30);
    for (const r of written) {
      assert.equal(partitionForKey(r.key, 6), r.partition, `key ${r.key}`);
    }
    const p = written[0]!.partition;
    const inP = written.filter((r) => r.partition === p).toSorted((a, b) =>
      Number(a.offset - b.offset)
    );
    const read = await reader.read(topic, p, 1n, { maxRecords: 2 });
    assert.deepEqual(read.map((r) => r.offset), inP.slice(1, 3).map((r) => r.offset));
    assert.deepEqual(read[0]!.key, bytes(inP[1]!.key));
    assert.deepEqual(read[0]!.value, inP[1]!.value);
    assert.equal(read[0]!.headers[0]![0], "traceparent");
    assert.ok(read[0]!.timestamp > Date.now() - 600_000, "a timestamp in ms");
    assert.deepEqual(await reader.read(topic, p, BigInt(inP.length)), [], "empty at the end");

    // Many reads asked for at once, of every partition, twice each at the same offset: each
    // answers with its own partition's record.
    const byPartition = Map.groupBy(written, (r) => r.partition);
    const reads = [...byPartition.keys(), ...byPartition.keys()].map(async (partition) => {
      const [first] = await reader.read(topic, partition, 0n, { maxRecords: 1 });
      return [partition, first?.partition, first?.key && new TextDecoder().decode(first.key)];
    });
    for (const [partition, got, key] of await Promise.all(reads)) {
      const expected = byPartition.get(partition as number)!.find((r) => r.offset === 0n)!;
      assert.deepEqual([got, key], [partition, expected.key], `partition ${partition}`);
    }
  } finally {
    await reader.close();
    await kafka.deleteTopics([topic]);
  }
});
