/**
 * The thread side of `createThreadProducer`: runs the Kafka producer on its own thread (a Web
 * Worker), so that record encoding does not compete with HTTP handling for the main thread.
 *
 * This file is the thread's entry point: importing it installs the message handler. It answers
 * each request `{ id, op, ... }` with `{ id, ok, value }` or `{ id, ok: false, error }`.
 */
import { createLogger, type LogLevel } from "../../shared/logger.ts";
import type { KafkaConnection } from "../../shared/kafka/settings.ts";
import { createTopicProducer } from "./topic_producer.ts";
import type { OutgoingMessage, TopicProducer } from "./port.ts";

/** The first message: how to build the producer. */
export interface ThreadInit {
  connection: KafkaConnection;
  topic: string;
  logLevel: LogLevel;
  /** How long `connect` waits for Kafka's first answer, in ms (default 10 s). */
  startTimeoutMs?: number;
  /**
   * How long one request to a broker may wait for its answer, in ms (default 30 s). The ingest
   * gives it its acknowledgement timeout: a request the caller was already answered 503 for need
   * not hold the client longer, and the client's next try goes to the next broker.
   */
  requestTimeoutMs?: number;
}

/** A request to the producer thread. */
export type ThreadRequest =
  | { id: number; op: "init"; init: ThreadInit }
  | { id: number; op: "connect" | "ready" | "problem" | "leaders" | "disconnect" }
  | { id: number; op: "send"; messages: OutgoingMessage[] };

/** The producer thread's answer to request `id`. */
export type ThreadResponse =
  | { id: number; ok: true; value?: unknown }
  | { id: number; ok: false; error: { name: string; message: string } };

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<ThreadRequest>) => void) | null;
  postMessage(message: ThreadResponse): void;
};

let producer: TopicProducer | undefined;
scope.onmessage = async ({ data }) => {
  try {
    let value: unknown;
    switch (data.op) {
      case "init": {
        const logger = createLogger({ level: data.init.logLevel }).child({ service: "ingest" });
        const { connection, topic, startTimeoutMs, requestTimeoutMs } = data.init;
        producer = createTopicProducer(connection, {
          topic,
          logger,
          startTimeoutMs,
          requestTimeoutMs,
        });
        break;
      }
      case "connect":
        await producer!.connect();
        break;
      case "send":
        await producer!.send(data.messages);
        break;
      case "ready":
        value = await producer!.ready();
        break;
      case "problem":
        value = producer!.problem();
        break;
      case "leaders":
        value = await producer!.leaders();
        break;
      case "disconnect":
        await producer!.disconnect();
        break;
    }
    scope.postMessage({ id: data.id, ok: true, value });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    scope.postMessage({ id: data.id, ok: false, error: { name: e.name, message: e.message } });
  }
};
