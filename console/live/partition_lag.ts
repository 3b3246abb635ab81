/**
 * The workers' lag per partition, in records and in seconds.
 *
 * Records: the end of the partition minus the group's committed offset (the start of the
 * partition when the group has committed nothing). Seconds: the age of the oldest record not
 * yet committed, which is the record at the committed offset (its timestamp); 0 when caught up.
 * A record's timestamp never changes, so the one at each committed offset is read once.
 */
import type { KafkaSource, TopicOffsets } from "../sources/kafka_source.ts";

/** One partition's lag. */
export interface PartitionLag {
  partition: number;
  /** The offset after the last record. */
  end: string;
  /** The group's committed offset (the partition's start when it has none). */
  committed: string;
  records: number;
  /** Age of the oldest record not yet committed, in seconds (0 when caught up). */
  seconds: number;
}

/** Computes lag; keeps the timestamps it read, one per partition. */
export interface LagReader {
  /**
   * The lag of each partition. `clock` is read once, after the records are read, so that an
   * age is never measured from before the record existed; that time is returned with the lag.
   */
  lag(
    offsets: TopicOffsets,
    committed: ReadonlyMap<number, bigint>,
    clock: () => number,
  ): Promise<{ time: number; lag: PartitionLag[] }>;
}

/** A lag reader over `source` for `topic`. */
export function createLagReader(source: KafkaSource, topic: string): LagReader {
  // partition -> the committed offset whose record's timestamp is known, and that timestamp
  const seen = new Map<number, { offset: bigint; timestamp: number }>();
  const timestampAt = async (partition: number, offset: bigint): Promise<number | null> => {
    const known = seen.get(partition);
    if (known && known.offset === offset) return known.timestamp;
    const [first] = await source.read(topic, partition, offset, {
      maxRecords: 1,
      maxBytes: 64 * 1024,
    });
    // Only a record found is kept: an empty answer is asked again at the next sample.
    if (first) seen.set(partition, { offset, timestamp: first.timestamp });
    return first ? first.timestamp : null;
  };
  return {
    async lag(offsets, committed, clock) {
      const found = await Promise.all(offsets.end.map(async (end, partition) => {
        const start = offsets.start[partition] ?? 0n;
        let at = committed.get(partition) ?? start;
        if (at < start) at = start; // committed before retention removed records
        const records = end > at ? Number(end - at) : 0;
        const ts = records > 0 ? await timestampAt(partition, at) : null;
        return { partition, end, at, records, ts };
      }));
      const time = clock();
      return {
        time,
        lag: found.map(({ partition, end, at, records, ts }) => ({
          partition,
          end: String(end),
          committed: String(at),
          records,
          // A producer's clock ahead of this one would make the age negative: 0 then.
          seconds: ts === null ? 0 : Math.max(0, (time - ts) / 1000),
        })),
      };
    },
  };
}
