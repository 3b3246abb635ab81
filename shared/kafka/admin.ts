/**
 * The few cluster operations the programs, the local stack and the tests need: topics, their
 * partitions and offsets, a group's committed offsets.
 *
 * @example
 * ```ts
 * import type { KafkaConnection } from "./settings.ts";
 * declare const connection: KafkaConnection;
 *
 * const admin = createKafkaAdmin(connection);
 * await admin.createTopics([{ topic: "user_created", partitions: 6 }]);
 * const ends = await admin.endOffsets("user_created"); // [offset after the last record, …]
 * await admin.close();
 * ```
 */
import "../../fixes/env_guard.ts";
import { closeFailedConnections } from "../../fixes/failed_connections.ts";
import { Admin } from "@platformatic/kafka";
import { clientOptions, type ClientTuning } from "./client_options.ts";
import type { KafkaConnection } from "./settings.ts";

/** A topic to create. */
export interface NewTopic {
  topic: string;
  partitions: number;
  /** Default 1. */
  replicationFactor?: number;
  /** Topic configs, e.g. `{ "min.insync.replicas": "2" }`. */
  configs?: Record<string, string>;
}

/** What callers need of the cluster. */
export interface KafkaAdmin {
  /**
   * Creates the topics that do not exist and waits until every partition of each has a leader
   * (a KRaft broker may answer UNKNOWN_TOPIC_OR_PARTITION for a moment after creation).
   * @throws {Error} when the leaders are not there within `timeoutMs` (default 30 s).
   */
  createTopics(topics: readonly NewTopic[], timeoutMs?: number): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  listTopics(): Promise<string[]>;
  /** How many brokers the cluster reports. */
  brokerCount(): Promise<number>;
  /** Partition count of a topic; 0 when it does not exist. */
  partitionCount(topic: string): Promise<number>;
  /** The number of replicas of each partition of a topic, by partition. */
  replicaCounts(topic: string): Promise<number[]>;
  /** True when every partition of the topics (all topics by default) has a leader. */
  leadersReady(topics?: readonly string[]): Promise<boolean>;
  /** The offset after the last record of each partition (the high watermark), by partition. */
  endOffsets(topic: string): Promise<bigint[]>;
  /** The first available offset of each partition, by partition. */
  startOffsets(topic: string): Promise<bigint[]>;
  /** The group's committed offset (next to read) per partition; absent when none. */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>>;
  /** Sets the group's committed offsets (the group must have no active members). */
  setCommittedOffsets(groupId: string, topic: string, offsets: Map<number, bigint>): Promise<void>;
  /** The group's state (`Empty`, `Stable`, `PreparingRebalance`, `Dead`, …) and member count. */
  groupState(groupId: string): Promise<{ state: string; members: number }>;
  /** A topic config value as the broker reports it (e.g. `min.insync.replicas`). */
  topicConfig(topic: string, name: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Creates an admin client; it connects on first use. */
export function createKafkaAdmin(
  connection: KafkaConnection,
  tuning: ClientTuning = {},
): KafkaAdmin {
  const admin = closeFailedConnections(new Admin(clientOptions(connection, "-admin", tuning)));

  const metadata = (topics: readonly string[]) =>
    admin.metadata({ topics: [...topics], forceUpdate: true });

  const listOffsets = async (topic: string, timestamp: bigint): Promise<bigint[]> => {
    const count = await partitionCount(topic);
    if (count === 0) throw new Error(`Topic ${topic} does not exist`);
    const answer = await admin.listOffsets({
      topics: [{
        name: topic,
        partitions: Array.from({ length: count }, (_, i) => ({ partitionIndex: i, timestamp })),
      }],
    });
    const out = new Array<bigint>(count).fill(0n);
    for (const t of answer) {
      for (const p of t.partitions) out[p.partitionIndex] = p.offset;
    }
    return out;
  };

  const partitionCount = async (topic: string): Promise<number> => {
    try {
      return (await metadata([topic])).topics.get(topic)?.partitionsCount ?? 0;
    } catch (err) {
      if (/UNKNOWN_TOPIC_OR_PARTITION|does not host/i.test(String(err) + errorText(err))) return 0;
      throw err;
    }
  };

  const leadersReady = async (topics?: readonly string[]): Promise<boolean> => {
    try {
      const names = topics ?? (await admin.listTopics({ includeInternals: false }));
      if (names.length === 0) return true;
      const meta = await metadata(names);
      return names.every((name) => {
        const t = meta.topics.get(name);
        return t !== undefined && t.partitionsCount > 0 &&
          t.partitions.every((p) => p !== undefined && p.leader >= 0);
      });
    } catch {
      return false;
    }
  };

  return {
    async createTopics(topics, timeoutMs = 30_000) {
      const existing = new Set(await admin.listTopics({ includeInternals: false }));
      for (const t of topics) {
        if (existing.has(t.topic)) continue;
        try {
          await admin.createTopics({
            topics: [t.topic],
            partitions: t.partitions,
            replicas: t.replicationFactor ?? 1,
            configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
          });
        } catch (err) {
          if (!/TOPIC_ALREADY_EXISTS|already exists/i.test(String(err) + errorText(err))) throw err;
        }
      }
      const names = topics.map((t) => t.topic);
      const deadline = Date.now() + timeoutMs;
      while (!(await leadersReady(names))) {
        if (Date.now() > deadline) {
          throw new Error(`Topics ${names.join(", ")} have no leaders after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async deleteTopics(topics) {
      if (topics.length > 0) await admin.deleteTopics({ topics: [...topics] });
    },
    listTopics: () => admin.listTopics({ includeInternals: false }),
    async brokerCount() {
      return (await admin.metadata({ topics: [], forceUpdate: true })).brokers.size;
    },
    partitionCount,
    async replicaCounts(topic) {
      const t = (await metadata([topic])).topics.get(topic);
      return t?.partitions.map((p) => p.replicas.length) ?? [];
    },
    leadersReady,
    endOffsets: (topic) => listOffsets(topic, -1n),
    startOffsets: (topic) => listOffsets(topic, -2n),
    async committedOffsets(groupId, topic) {
      const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
      const out = new Map<number, bigint>();
      for (const t of group?.topics ?? []) {
        if (t.name !== topic) continue;
        for (const p of t.partitions) {
          if (p.committedOffset >= 0n) out.set(p.partitionIndex, p.committedOffset);
        }
      }
      return out;
    },
    async setCommittedOffsets(groupId, topic, offsets) {
      await admin.alterConsumerGroupOffsets({
        groupId,
        topics: [{
          name: topic,
          partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset })),
        }],
      });
    },
    async groupState(groupId) {
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      return { state: String(group?.state ?? "Dead"), members: group?.members.size ?? 0 };
    },
    async topicConfig(topic, name) {
      const answer = await admin.describeConfigs({
        resources: [{ resourceType: 2, resourceName: topic, configurationKeys: [name] }],
      });
      return answer[0]?.configs.find((c) => c.name === name)?.value ?? undefined;
    },
    close: () => admin.close(),
  };
}

function errorText(err: unknown): string {
  const e = err as { errors?: unknown[]; cause?: unknown };
  return [...(e.errors ?? []), e.cause].map((x) => String((x as Error)?.message ?? x)).join(" ");
}
