/**
 * The real `Producer`: a kafkajs idempotent producer (acks=all) writing to one topic, plus a
 * readiness probe. Built from a client made by `createKafka`, which applies the kafkajs fix.
 */
import { Buffer } from "node:buffer";
import { type Kafka, Partitioners, type Producer as KafkajsProducer } from "kafkajs";
import { PRODUCER_DEFAULTS } from "../shared/kafka.ts";
import { createPartitionCounter, sendAcknowledged } from "../shared/kafka_send.ts";
import type { OutgoingMessage, Producer } from "./batcher.ts";

/** A producer that can connect, send, report readiness and disconnect. */
export interface KafkaProducer extends Producer {
  connect(): Promise<void>;
  /** True when the producer is connected and the topic's metadata answers within a second. */
  ready(): Promise<boolean>;
  disconnect(): Promise<void>;
}

/** Options for `createKafkaProducer`. */
export interface KafkaProducerOptions {
  topic: string;
  /** How long a readiness answer is reused, in ms (default 1000). */
  readyCacheMs?: number;
}

/** Wraps a kafkajs producer (with `PRODUCER_DEFAULTS`) for `topic`. */
export function createKafkaProducer(kafka: Kafka, opts: KafkaProducerOptions): KafkaProducer {
  const encodedHeaders = new WeakMap<Record<string, string>, Record<string, Buffer>>();
  const headerBuffers = (headers: Record<string, string>): Record<string, Buffer> => {
    let encoded = encodedHeaders.get(headers);
    if (!encoded) {
      encoded = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
      encodedHeaders.set(headers, encoded);
    }
    return encoded;
  };
  const admin = kafka.admin();
  const partitionCount = createPartitionCounter(admin);
  let connected = false;
  let adminConnected = false;
  let probe: { at: number; result: Promise<boolean> } | undefined;
  const cacheMs = opts.readyCacheMs ?? 1000;

  const newProducer = (): KafkajsProducer => {
    const p = kafka.producer({
      ...PRODUCER_DEFAULTS,
      // The Java client's partitioner (murmur2), stated so kafkajs does not warn about it.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    p.on(p.events.CONNECT, () => {
      if (producer === p) connected = true;
    });
    p.on(p.events.DISCONNECT, () => {
      if (producer === p) connected = false;
    });
    return p;
  };
  let producer = newProducer();
  // After a failed send the idempotent producer's sequence numbers are rolled back although
  // the broker may have written the batch: a later batch of the same size could then be taken
  // for a duplicate and acknowledged without being written. A fresh producer id avoids that.
  let replace: Promise<void> | null = null;
  const replaceProducer = () => {
    replace ??= (async () => {
      const old = producer;
      producer = newProducer();
      connected = false;
      await old.disconnect().catch(() => {});
      await producer.connect();
      broken = false;
    })().finally(() => replace = null);
    return replace;
  };
  let broken = false;

  const checkTopic = async (): Promise<boolean> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      if (!adminConnected) {
        await admin.connect();
        adminConnected = true;
      }
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 1000);
      });
      const answer = admin.fetchTopicMetadata({ topics: [opts.topic] }).then(
        (meta) => (meta.topics[0]?.partitions.length ?? 0) > 0,
        () => false,
      );
      return await Promise.race([answer, timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    connect: () => producer.connect(),
    async send(messages: OutgoingMessage[]) {
      if (broken) await replaceProducer();
      try {
        // sendAcknowledged, not producer.send: kafkajs 2.2.4 can resolve a send whose
        // partition moved to another leader without writing it (see shared/kafka_send.ts).
        if (!adminConnected) {
          await admin.connect();
          adminConnected = true;
        }
        await sendAcknowledged(
          producer,
          opts.topic,
          messages.map((m) => ({
            // Buffers, not strings: kafkajs converts a string key twice (partitioner and
            // record) and header strings once per message; requests share one headers object.
            key: Buffer.from(m.key),
            // kafkajs writes only Buffers as bytes; a plain Uint8Array would be stringified.
            value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
            headers: m.headers && headerBuffers(m.headers),
          })),
          await partitionCount(opts.topic),
        );
      } catch (err) {
        broken = true;
        throw err;
      }
    },
    ready() {
      if (broken) {
        // Mend in the background so that readiness comes back without traffic.
        replaceProducer().catch(() => {});
        return Promise.resolve(false);
      }
      if (!connected) return Promise.resolve(false);
      const t = Date.now();
      if (!probe || t - probe.at > cacheMs) probe = { at: t, result: checkTopic() };
      return probe.result;
    },
    async disconnect() {
      await replace?.catch(() => {});
      await producer.disconnect();
      if (adminConnected) await admin.disconnect();
      adminConnected = false;
    },
  };
}
