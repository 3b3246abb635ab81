/**
 * A `TopicProducer` whose Kafka producer runs on its own thread, a Web Worker
 * (`producer_thread.ts`). The main thread keeps HTTP, validation and batching; the producer
 * thread encodes and sends produce requests on
 * another core. Message values are transferred, not copied.
 */
import type { LogLevel } from "../../shared/logger.ts";
import type { KafkaConnection } from "../../shared/kafka/settings.ts";
import type { OutgoingMessage, TopicProducer } from "./port.ts";
import type { ThreadRequest, ThreadResponse } from "./producer_thread.ts";

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/** What the producer thread needs to build its producer. */
export interface ThreadProducerOptions {
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

/**
 * Starts the producer thread and returns a producer that talks to it; `disconnect()` ends the
 * thread.
 */
export function createThreadProducer(opts: ThreadProducerOptions): TopicProducer {
  const thread = new Worker(new URL("./producer_thread.ts", import.meta.url).href, {
    type: "module",
  });
  let nextId = 0;
  const pending = new Map<number, PromiseWithResolvers<unknown>>();
  thread.onmessage = ({ data }: MessageEvent<ThreadResponse>) => {
    const p = pending.get(data.id);
    if (!p) return;
    pending.delete(data.id);
    if (data.ok) p.resolve(data.value);
    else p.reject(Object.assign(new Error(data.error.message), { name: data.error.name }));
  };
  // A thread that crashed answers nothing: fail every call at once instead of hanging.
  let failure: Error | null = null;
  thread.onerror = (e) => {
    e.preventDefault();
    failure = new Error(`Kafka producer thread failed: ${e.message}`);
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  const call = (request: WithoutId<ThreadRequest>, transfer: Transferable[] = []) => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    const p = Promise.withResolvers<unknown>();
    pending.set(id, p);
    thread.postMessage({ ...request, id }, transfer);
    return p.promise;
  };
  const initialised = call({ op: "init", init: opts });
  let lastProblem: string | undefined;

  return {
    async connect() {
      await initialised;
      try {
        await call({ op: "connect" });
      } catch (err) {
        lastProblem = (err as Error).message;
        throw err;
      }
    },
    async send(messages: OutgoingMessage[]) {
      const transfer: Transferable[] = [];
      const seen = new Set<ArrayBufferLike>();
      for (const m of messages) {
        const buffer = m.value.buffer;
        // Only whole, transferable buffers; a view into a shared buffer is copied instead.
        if (
          buffer instanceof ArrayBuffer && m.value.byteOffset === 0 &&
          m.value.byteLength === buffer.byteLength && !seen.has(buffer)
        ) {
          seen.add(buffer);
          transfer.push(buffer);
        }
      }
      await call({ op: "send", messages }, transfer);
    },
    async ready() {
      const ok = failure === null && (await call({ op: "ready" })) === true;
      lastProblem = ok ? undefined : failure?.message ?? (await call({ op: "problem" })) as string;
      return ok;
    },
    problem: () => lastProblem,
    async leaders() {
      return await call({ op: "leaders" }) as number[];
    },
    async disconnect() {
      try {
        await call({ op: "disconnect" });
      } finally {
        thread.terminate();
        for (const p of pending.values()) p.reject(new Error("Kafka producer thread terminated"));
        pending.clear();
      }
    },
  };
}
