/**
 * Partitions held at a record this worker cannot read: one whose `schema_version` is newer than
 * it knows (a rolling upgrade where the ingest went first). Such a record is neither written
 * nor dead-lettered: it is a good event for a newer worker. The worker holds its partition at
 * it, and from then on:
 *
 * - `handle_batch.ts` writes nothing of that partition at or past the held offset, and the
 *   committer drops its records as they arrive and never commits past the held offset;
 * - the other partitions go on as before;
 * - `/readyz` says which version it met and that the workers need upgrading.
 *
 * A hold lasts as long as the process: an upgraded worker that takes the partition over reads
 * it from the held offset (the committed one), with nothing to re-drive. Keeping it after a
 * rebalance takes the partition away is what keeps it safe: records fetched before the
 * rebalance may still arrive, and none of them may move the partition's offset past the hold.
 */
import { newerVersionReason } from "../../shared/event.ts";
import { partitionKey } from "../../shared/kafka/partition_key.ts";

/** Where a partition is held, and why. */
export interface Hold {
  topic: string;
  partition: number;
  /** The offset of the record it is held at: nothing at or past it is written or committed. */
  offset: bigint;
  /** The record's `schema_version`. */
  version: number;
}

/** The holds of one worker process. */
export class PartitionHolds {
  #byKey = new Map<string, Hold>();

  /** Partitions held. */
  get size(): number {
    return this.#byKey.size;
  }

  /**
   * Holds `hold.partition` at `hold.offset`, or at the lower of that and an existing hold.
   * Returns true when the partition was not held before.
   */
  hold(hold: Hold): boolean {
    const key = partitionKey(hold.topic, hold.partition);
    const current = this.#byKey.get(key);
    if (current && current.offset <= hold.offset) return false;
    this.#byKey.set(key, { ...hold });
    return current === undefined;
  }

  /** The offset `topic:partition` is held at, if it is. */
  at(topic: string, partition: number): bigint | undefined {
    return this.#byKey.get(partitionKey(topic, partition))?.offset;
  }

  /** True when the record at `offset` lies at or past its partition's hold. */
  holds(topic: string, partition: number, offset: bigint): boolean {
    const at = this.at(topic, partition);
    return at !== undefined && offset >= at;
  }

  /** Every hold, by partition key. */
  list(): Hold[] {
    return [...this.#byKey.values()];
  }

  /**
   * What `/readyz` says when one of `owned` (`topic:partition` keys) is held: the newest
   * version met, and the partitions held.
   */
  problem(owned: ReadonlySet<string>): string | undefined {
    const held = this.list().filter((h) => owned.has(partitionKey(h.topic, h.partition)));
    if (held.length === 0) return undefined;
    const version = Math.max(...held.map((h) => h.version));
    const where = held.map((h) => `${h.partition}@${h.offset}`).join(", ");
    return `${newerVersionReason(version)} (partitions held at partition@offset: ${where})`;
  }
}
