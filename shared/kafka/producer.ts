/**
 * Our producer: an idempotent `@platformatic/kafka` producer with acks=all whose `send()`
 * resolves only when Kafka acknowledged every message it was given.
 *
 * - Partitions are chosen like the Java client and kafkajs's default (murmur2 of the key, made
 *   positive with `& 0x7fffffff`), so one user's events land in the partition they always did.
 *   The client's own default (`murmur2 >>> 0`) would move about half of the keys.
 * - A send answers as a whole: the client fails it when any partition of any broker reports an
 *   error, and after a failed send it starts over with a new producer id, so a batch the broker
 *   may have written is never taken for a duplicate of a later one.
 *
 * @example
 * ```ts
 * import type { Logger } from "../logger.ts";
 * import type { KafkaConnection } from "./settings.ts";
 * declare const connection: KafkaConnection, logger: Logger, bytes: Uint8Array;
 *
 * const producer = createKafkaProducer(connection, { logger });
 * await producer.connect(["user_created"]);
 * await producer.send("user_created", [{ key: "id", value: bytes }]);
 * ```
 */
import "../../fixes/env_guard.ts";
import { closeFailedConnections } from "../../fixes/failed_connections.ts";
import { rotatingMetadata } from "../../fixes/metadata_rotation.ts";
import { Buffer } from "node:buffer";
import { compatibilityPartitioner, ProduceAcks, Producer } from "@platformatic/kafka";
import type { Logger } from "../logger.ts";
import type { RecordHeaders } from "../record_headers.ts";
import { clientOptions, type ClientTuning } from "./client_options.ts";
import { awaitFirstAnswer, START_TIMEOUT_MS } from "./first_answer.ts";
import { diagnoseKafkaError, explainKafkaError, KafkaSetupError } from "./kafka_error.ts";
import type { KafkaConnection } from "./settings.ts";

/** One message to produce. */
export interface ProducerMessage {
  key: string | Uint8Array | null;
  value: Uint8Array | null;
  /**
   * Header values as text or bytes by name, or a record's headers in order (names may repeat:
   * each is written, in that order). One headers object may be shared by many messages.
   */
  headers?: Record<string, string | Uint8Array> | RecordHeaders;
  /**
   * The key's partitioner hash when the caller computed it already
   * (`partitionForKey(key, 2 ** 31)`): taken modulo the partition count like the partitioner's
   * answer, so the key is not hashed twice.
   */
  partition?: number;
}

/** What the programs need of a producer. */
export interface KafkaProducer {
  /**
   * Connects and checks that each topic exists, waiting at most `startTimeoutMs` for the
   * first answer.
   * @throws {KafkaSetupError} naming the setting to fix (password, CA, TLS, brokers that do
   *   not answer) or the topic.
   */
  connect(topics: readonly string[]): Promise<void>;
  /** Resolves when Kafka acknowledged every message (acks=all); rejects otherwise. */
  send(topic: string, messages: readonly ProducerMessage[]): Promise<void>;
  /** True when the topic's metadata answers within `timeoutMs` (default 1 s). */
  ready(topic: string, timeoutMs?: number): Promise<boolean>;
  /**
   * The node id of the broker leading each partition of `topic` (-1 where none does now), from
   * fresh metadata; the client sends by the same metadata, which this refreshes.
   * @throws {Error} when the metadata does not answer within `timeoutMs` (default 2 s) or
   * lacks the topic.
   */
  leaders(topic: string, timeoutMs?: number): Promise<number[]>;
  /** Why the last connect, send or readiness check failed; undefined after a success. */
  lastProblem(): string | undefined;
  close(): Promise<void>;
}

/** Options for `createKafkaProducer`. */
export interface KafkaProducerOptions extends ClientTuning {
  logger: Logger;
  /** Appended to the connection's client id (e.g. `-dlq`). */
  clientIdSuffix?: string;
  /** How long `connect` waits for Kafka's first answer, in ms (default 10 s). */
  startTimeoutMs?: number;
}

/** Creates a producer for `connection`; nothing connects before `connect` or `send`. */
export function createKafkaProducer(
  connection: KafkaConnection,
  opts: KafkaProducerOptions,
): KafkaProducer {
  const producer = closeFailedConnections(
    new Producer({
      // The client turns `retries` of 0 or 1 into "forever" for an idempotent producer: an
      // outage would hang every send instead of failing it, so at least 2.
      ...clientOptions(connection, opts.clientIdSuffix ?? "", {
        ...opts,
        retries: Math.max(2, opts.retries ?? 3),
      }),
      idempotent: true,
      acks: ProduceAcks.ALL,
      partitioner: compatibilityPartitioner,
    }),
  );
  // Leader and readiness reads that a silent first broker cannot hold (fixes/README.md).
  const rotation = rotatingMetadata(producer, Math.max(2, opts.retries ?? 3));
  // Requests share one headers object among their messages: encode it once.
  const encodedHeaders = new WeakMap<object, Map<Buffer, Buffer>>();
  // The client writes a Map's entries in order; each name gets its own Buffer, so a repeated
  // name is as many keys of the Map (a Map keys Buffers by identity) and every value is written.
  const headersOf = (headers: NonNullable<ProducerMessage["headers"]>): Map<Buffer, Buffer> => {
    let map = encodedHeaders.get(headers);
    if (!map) {
      map = new Map();
      const entries = Array.isArray(headers) ? headers : Object.entries(headers);
      for (const [k, v] of entries) {
        map.set(Buffer.from(k), typeof v === "string" ? Buffer.from(v) : asBuffer(v));
      }
      encodedHeaders.set(headers, map);
    }
    return map;
  };
  let problem: string | undefined;
  // The metadata request of the last `connect`. When `connect` stopped waiting for it, the
  // client ends it only at its next retry after `close()` (a timer of up to 5 s), and `close()`
  // waits for that, so that nothing of the client outlives it.
  let firstAttempt: Promise<unknown> = Promise.resolve();
  const quick = (err: unknown) =>
    explainKafkaError(err, connection) ?? (err as Error).message ?? String(err);
  return {
    async connect(topics) {
      const attempt = producer.metadata({ topics: [...topics], forceUpdate: true });
      firstAttempt = attempt.catch(() => {});
      let metadata;
      try {
        metadata = await awaitFirstAnswer(
          attempt,
          connection,
          opts.startTimeoutMs ?? START_TIMEOUT_MS,
        );
      } catch (err) {
        if (err instanceof KafkaSetupError) {
          problem = err.message;
          throw err;
        }
        problem = await diagnoseKafkaError(err, connection);
        throw new KafkaSetupError(problem, { cause: err });
      }
      for (const topic of topics) {
        if (!metadata.topics.has(topic)) {
          problem = `Topic ${topic} does not exist (auto-creation is off)`;
          throw new KafkaSetupError(problem);
        }
      }
      problem = undefined;
    },
    async send(topic, messages) {
      if (messages.length === 0) return;
      const records = new Array(messages.length);
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        records[i] = {
          topic,
          key: m.key === null
            ? undefined
            : typeof m.key === "string"
            ? Buffer.from(m.key)
            : asBuffer(m.key),
          value: m.value === null ? undefined : asBuffer(m.value),
          headers: m.headers ? headersOf(m.headers) : undefined,
          partition: m.partition,
        };
      }
      try {
        await producer.send({ messages: records });
        problem = undefined;
      } catch (err) {
        problem = quick(err);
        throw err;
      }
    },
    async ready(topic, timeoutMs = 1_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => {
          rotation.passOver();
          resolve(false);
        }, timeoutMs);
      });
      const answer = producer.metadata({
        topics: [topic],
        forceUpdate: true,
        retries: rotation.retries(),
      }).then(
        (m) => {
          const ok = (m.topics.get(topic)?.partitionsCount ?? 0) > 0;
          problem = ok ? undefined : `Topic ${topic} does not exist`;
          return ok;
        },
        (err) => {
          problem = quick(err);
          return false;
        },
      );
      try {
        return await Promise.race([answer, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async leaders(topic, timeoutMs = 2_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          rotation.passOver();
          reject(new Error(`No metadata for ${topic} within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      try {
        const metadata = await Promise.race([
          producer.metadata({ topics: [topic], forceUpdate: true, retries: rotation.retries() }),
          timeout,
        ]);
        const partitions = metadata.topics.get(topic)?.partitions;
        if (!partitions || partitions.length === 0) {
          throw new Error(`Topic ${topic} does not exist`);
        }
        return Array.from(partitions, (p) => p?.leader ?? -1);
      } finally {
        clearTimeout(timer);
      }
    },
    lastProblem: () => problem,
    async close() {
      await producer.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([firstAttempt, new Promise((r) => (timer = setTimeout(r, 6_000)))]);
      clearTimeout(timer);
    },
  };
}

/** A Buffer over the same bytes (the client writes only Buffers as bytes). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
