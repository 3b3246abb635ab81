/**
 * The Web Worker side of `createThreadProducer`: runs the Kafka producer on its own thread,
 * so that record encoding does not compete with HTTP handling for the main thread.
 *
 * This file is a worker entry point: importing it installs the message handler. It answers
 * each request `{ id, op, ... }` with `{ id, ok, value }` or `{ id, ok: false, error }`.
 */
import { createLogger, type LogLevel } from "../../shared/logger.ts";
import type { KafkaConnection } from "../../shared/kafka/settings.ts";
import { createKafkaProducer } from "./kafka_producer.ts";
import type { KafkaProducer, OutgoingMessage } from "./port.ts";

/** The first message: how to build the producer. */
export interface WorkerInit {
  connection: KafkaConnection;
  topic: string;
  logLevel: LogLevel;
  /** How long `connect` waits for Kafka's first answer, in ms (default 10 s). */
  startTimeoutMs?: number;
}

/** A request to the worker. */
export type WorkerRequest =
  | { id: number; op: "init"; init: WorkerInit }
  | { id: number; op: "connect" | "ready" | "problem" | "leaders" | "disconnect" }
  | { id: number; op: "send"; messages: OutgoingMessage[] };

/** The worker's answer to request `id`. */
export type WorkerResponse =
  | { id: number; ok: true; value?: unknown }
  | { id: number; ok: false; error: { name: string; message: string } };

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerResponse): void;
};

let producer: KafkaProducer | undefined;
scope.onmessage = async ({ data }) => {
  try {
    let value: unknown;
    switch (data.op) {
      case "init": {
        const logger = createLogger({ level: data.init.logLevel }).child({ service: "ingest" });
        const { connection, topic, startTimeoutMs } = data.init;
        producer = createKafkaProducer(connection, { topic, logger, startTimeoutMs });
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
