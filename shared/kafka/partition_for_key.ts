/**
 * The partition of a key, as our producer chooses it: the Java client's murmur2 partitioner
 * (`compatibilityPartitioner`, murmur2 of the key bytes `& 0x7fffffff`, modulo the partition
 * count). The same function the producer is configured with, so that a tool that looks for a
 * user's events reads the one partition they are in.
 *
 * @example
 * ```ts
 * const partition = partitionForKey("6a1f2c3d-0000-4000-8000-000000000001", 6);
 * ```
 */
import "../../fixes/env_guard.ts";
import { Buffer } from "node:buffer";
import { compatibilityPartitioner } from "@platformatic/kafka";

/** The partition (0 … `partitions` - 1) that a record with `key` goes to. */
export function partitionForKey(key: string | Uint8Array, partitions: number): number {
  const bytes = typeof key === "string" ? Buffer.from(key) : Buffer.from(key);
  // The client calls the partitioner with the message first; it reads only the key.
  return compatibilityPartitioner(undefined as never, bytes) % partitions;
}
