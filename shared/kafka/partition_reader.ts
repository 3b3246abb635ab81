/**
 * Reads records of one partition from a given offset, without a consumer group: one fetch
 * request to the partition's leader, bounded in bytes and records. For tools that look at a
 * topic (the console's lag in seconds, its dead-letter view, finding an event) and must never
 * join, move or commit a group.
 *
 * Reads run one at a time: the client keeps one incremental fetch session per broker (KIP-227),
 * and two fetches in flight at once would send the same session epoch, which the broker refuses
 * (INVALID_FETCH_SESSION_EPOCH); the client would retry, or fail when few retries are allowed.
 *
 * @example
 * ```ts
 * import type { KafkaConnection } from "./settings.ts";
 * declare const connection: KafkaConnection;
 *
 * const reader = createPartitionReader(connection);
 * const [first] = await reader.read("user_created", 2, 41n, { maxRecords: 1 });
 * await reader.close();
 * ```
 */
import "../../fixes/env_guard.ts";
import { closeFailedConnections } from "../../fixes/failed_connections.ts";
import { Consumer } from "@platformatic/kafka";
import type { RecordHeaders } from "../record_headers.ts";
import { clientOptions, type ClientTuning } from "./client_options.ts";
import type { KafkaConnection } from "./settings.ts";

/** One record read from a partition. */
export interface ReadRecord {
  partition: number;
  offset: bigint;
  /** The record's timestamp in ms since the epoch. */
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Header names (as text) and values (as bytes), in record order; names may repeat. */
  headers: RecordHeaders;
}

/** Bounds of one read. */
export interface ReadLimits {
  /** Most records returned (default 500). */
  maxRecords?: number;
  /** Most bytes the broker may answer with (default 1 MiB; one record larger still comes). */
  maxBytes?: number;
}

/** What callers need: records from an offset, and the end of a partition as seen. */
export interface PartitionReader {
  /**
   * Records of `topic`/`partition` from `offset` on (the first may be later when `offset` was
   * compacted or is a control record), in offset order; empty at the end of the partition.
   * @throws {Error} when the topic does not exist or Kafka fails after the client's retries.
   */
  read(
    topic: string,
    partition: number,
    offset: bigint,
    limits?: ReadLimits,
  ): Promise<ReadRecord[]>;
  close(): Promise<void>;
}

const CONTROL = 0b10_0000;
const decoder = new TextDecoder();

/** Creates a reader; it connects on first use and never joins a group. */
export function createPartitionReader(
  connection: KafkaConnection,
  tuning: ClientTuning = {},
): PartitionReader {
  const consumer = new Consumer({
    ...clientOptions(connection, "-reader", tuning),
    // Required by the client's options; no group operation is ever made with it.
    groupId: `${connection.clientId}-reader-unused`,
    autocommit: false,
    maxWaitTime: 0,
    minBytes: 1,
  });
  closeFailedConnections(consumer);
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => {});
    return next;
  };
  return {
    read: (topic, partition, offset, limits = {}) =>
      oneAtATime(() => readOnce(topic, partition, offset, limits)),
    close: () => consumer.close(true),
  };

  async function readOnce(
    topic: string,
    partition: number,
    offset: bigint,
    limits: ReadLimits,
  ): Promise<ReadRecord[]> {
    {
      const maxRecords = limits.maxRecords ?? 500;
      const maxBytes = limits.maxBytes ?? 1024 * 1024;
      const metadata = await consumer.metadata({ topics: [topic] });
      const t = metadata.topics.get(topic);
      const leader = t?.partitions[partition]?.leader;
      if (!t || leader === undefined || leader < 0) {
        throw new Error(`Topic ${topic} has no partition ${partition} with a leader`);
      }
      const answer = await consumer.fetch({
        node: leader,
        maxWaitTime: 0,
        maxBytes,
        topics: [{
          topicId: t.id,
          partitions: [{
            partition,
            fetchOffset: offset,
            partitionMaxBytes: maxBytes,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          }],
        }],
      });
      const out: ReadRecord[] = [];
      for (const topicAnswer of answer.responses) {
        // Another topic's partition with the same index may linger in the fetch session.
        if (topicAnswer.topicId !== t.id && topicAnswer.topicId !== topic) continue;
        for (const p of topicAnswer.partitions) {
          if (p.partitionIndex !== partition) continue;
          if (p.errorCode !== 0) {
            throw new Error(
              `Reading ${topic}/${partition} at ${offset}: Kafka error ${p.errorCode}`,
            );
          }
          for (const batch of p.records ?? []) {
            if (batch.attributes & CONTROL) continue;
            for (const r of batch.records) {
              const at = batch.firstOffset + BigInt(r.offsetDelta);
              if (at < offset) continue;
              out.push({
                partition,
                offset: at,
                timestamp: Number(batch.firstTimestamp + r.timestampDelta),
                key: r.key ? new Uint8Array(r.key) : null,
                value: r.value ? new Uint8Array(r.value) : null,
                headers: r.headers.map(([k, v]) => [
                  k ? decoder.decode(k) : "",
                  v ? new Uint8Array(v) : new Uint8Array(),
                ]),
              });
              if (out.length >= maxRecords) return out;
            }
          }
        }
      }
      return out;
    }
  }
}
