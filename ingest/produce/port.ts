/**
 * The ports the produce stage offers: `Producer`, what the batcher sends through,
 * `TopicProducer`, what the program connects at start (on this thread, `topic_producer.ts`, or
 * on its own, `thread_producer.ts`), and `LaneRouter`, which tells the batcher which send lane a
 * message takes (`leader_lanes.ts`); tests use the fakes in `testing/fakes.ts`.
 */

/** One Kafka record as the ingest produces it. */
export interface OutgoingMessage {
  key: string;
  value: Uint8Array;
  headers?: Record<string, string>;
  /**
   * The key's partitioner hash, when the send lanes computed it (`leader_lanes.ts`): the client
   * takes it modulo the partition count, as it does its partitioner's answer, instead of hashing
   * the key a second time.
   */
  partition?: number;
}

/** The small producer interface the batcher needs: resolves when Kafka acknowledged all. */
export interface Producer {
  send(messages: OutgoingMessage[]): Promise<void>;
}

/** A producer that can connect, send, report readiness and disconnect. */
export interface TopicProducer extends Producer {
  /**
   * Connects and checks the topic.
   * @throws {KafkaSetupError} naming the setting to fix, or the missing topic.
   */
  connect(): Promise<void>;
  /** True when the topic's metadata answers within a second (cached for `readyCacheMs`). */
  ready(): Promise<boolean>;
  /** Why the last connect, send or probe failed; undefined after a success. */
  problem(): string | undefined;
  /**
   * The node id of the broker leading each partition of the topic (-1 where none does now),
   * from fresh metadata: the map the producer itself sends by.
   * @throws {Error} when the metadata does not answer in time or lacks the topic.
   */
  leaders(): Promise<number[]>;
  disconnect(): Promise<void>;
}

/** The lane of messages whose partition's leader is not known (and the only lane until it is). */
export const ONE_LANE = -1;

/**
 * Which send lane a message takes: the node id of the broker leading its partition, so that a
 * broker that hangs holds up only its own lane (see `batcher.ts`).
 */
export interface LaneRouter {
  /**
   * The lane of `message`: its partition leader's node id, or `ONE_LANE`. May record the key's
   * partitioner hash in `message.partition`.
   */
  laneOf(message: OutgoingMessage): number;
  /** The lanes messages can take now: each leader's node id, or `[ONE_LANE]` while unknown. */
  current(): readonly number[];
  /** A number that changes whenever `laneOf` may answer differently for some message. */
  version(): number;
  /** Told that `lane`'s send has been stuck for the acknowledgement timeout: look for moved leaders now. */
  stalled(lane: number): void;
}
