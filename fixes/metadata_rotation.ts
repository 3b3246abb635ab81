/**
 * Metadata reads that one silent broker cannot hold.
 *
 * @platformatic/kafka 2.12 sends a metadata request to the first broker of its list (the
 * bootstrap brokers, then the discovered ones) that has a connection, and moves to the next one
 * only after a request failed. A broker that accepts and never answers (frozen, or a blackholed
 * path) holds each read for the request timeout (30 s), and a read with the same options joins
 * the one in flight. So a producer whose first broker went silent cannot learn that Kafka moved
 * that broker's partitions to other leaders: the fault suite's `leader-freeze` (the first
 * broker frozen 30 s) got 0 × 202 and 592 × 503 for requests of 10 users.
 *
 * `rotatingMetadata(client)` starts the client's metadata reads `skip` brokers further down its
 * list, where `skip` grows by one with each `passOver()` (call it when a read did not answer in
 * time), and gives each `skip` its own deduplication key through the `retries` option (part of
 * the client's key), so the next read is a new request to the next broker instead of joining
 * the one that hangs.
 *
 * @example
 * ```ts
 * import { Producer } from "@platformatic/kafka";
 * import { rotatingMetadata } from "./metadata_rotation.ts";
 *
 * const producer = new Producer({ clientId: "c", bootstrapBrokers: ["127.0.0.1:9092"] });
 * const rotation = rotatingMetadata(producer, 3);
 * const read = producer.metadata({ topics: ["t"], forceUpdate: true, retries: rotation.retries() });
 * const late = setTimeout(() => rotation.passOver(), 2_000); // no answer in 2 s: next broker
 * await read.finally(() => clearTimeout(late)).catch(() => {});
 * await producer.close();
 * ```
 */
import { kGetBootstrapConnection } from "@platformatic/kafka";

/** Keys the rotations cycle through: a read that hangs has given up before its key returns. */
const KEYS = 4;

/** See the module's documentation. */
export interface MetadataRotation {
  /** The next reads start one broker further down the list, as new requests. */
  passOver(): void;
  /** The `retries` to give `metadata()`: the client's own count, plus the rotation's key. */
  retries(): number;
  /** How many times reads were passed over (for logs and tests). */
  skipped(): number;
}

type ConnectionCallback = (error: Error | null, connection?: unknown) => void;
type GetBootstrapConnection = (callback: ConnectionCallback, attempt?: number) => void;

/** Makes `client`'s metadata reads rotate as described above; `retries` is its retry count. */
export function rotatingMetadata(client: object, retries: number): MetadataRotation {
  const target = client as Record<symbol, GetBootstrapConnection>;
  const original = target[kGetBootstrapConnection];
  if (typeof original !== "function") {
    throw new TypeError("@platformatic/kafka changed: no kGetBootstrapConnection on the client");
  }
  let skip = 0;
  // The client rotates its list by `attempt` (retries of one request); add ours to it.
  target[kGetBootstrapConnection] = (callback, attempt = 0) =>
    original.call(client, callback, attempt + skip);
  return {
    passOver() {
      skip++;
    },
    retries: () => retries + (skip % KEYS),
    skipped: () => skip,
  };
}
