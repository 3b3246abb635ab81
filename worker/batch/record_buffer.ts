/**
 * The committer's buffer: records of any partitions in arrival order, their bytes, and per
 * partition the next offset to commit once they are written. A sealed buffer is a batch.
 */
import type { ConsumedRecord, PartitionOffset } from "../../shared/kafka/consumer_group.ts";
import { partitionKey } from "../../shared/kafka/partition_key.ts";

/** Per partition of a buffer: the next offset to commit, and how many records it holds. */
export interface PartitionRecords extends PartitionOffset {
  records: number;
}

/** Records collected for one batch. */
export class RecordBuffer {
  /** The records, in arrival order. */
  messages: ConsumedRecord[] = [];
  /** Their keys' and values' bytes. */
  bytes = 0;
  /** When its first record arrived. */
  since = 0;
  /** Per partition key: the next offset to commit and the records, kept as records arrive. */
  readonly partitions = new Map<string, PartitionRecords>();

  /** How many records it holds. */
  get records(): number {
    return this.messages.length;
  }

  /** Adds one record (`now`: its arrival). */
  push(r: ConsumedRecord, now: number): void {
    if (this.messages.length === 0) this.since = now;
    this.messages.push(r);
    this.bytes += sizeOf(r);
    const k = partitionKey(r.topic, r.partition);
    const p = this.partitions.get(k);
    if (p === undefined) {
      this.partitions.set(k, {
        topic: r.topic,
        partition: r.partition,
        offset: r.offset + 1n,
        records: 1,
      });
      return;
    }
    p.records++;
    if (r.offset + 1n > p.offset) p.offset = r.offset + 1n;
  }

  /** Drops the records of partitions not in `owned`; returns how many were dropped. */
  keepOwned(owned: ReadonlySet<string>): number {
    const before = this.messages.length;
    if (before === 0) return 0;
    const kept = this.messages.filter((m) => owned.has(partitionKey(m.topic, m.partition)));
    if (kept.length === before) return 0;
    this.messages = kept;
    this.bytes = kept.reduce((n, m) => n + sizeOf(m), 0);
    for (const k of [...this.partitions.keys()]) {
      if (!owned.has(k)) this.partitions.delete(k);
    }
    return before - kept.length;
  }
}

/** What a record weighs in the buffer: its key and value bytes. */
function sizeOf(r: { key: Uint8Array | null; value: Uint8Array | null }): number {
  return (r.value?.byteLength ?? 0) + (r.key?.byteLength ?? 0);
}
