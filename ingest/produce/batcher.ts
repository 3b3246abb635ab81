/**
 * The producer batcher: many callers' messages go to Kafka in few requests.
 *
 * The Kafka client sends one produce request per `send()` call, and its idempotent producer serialises
 * requests per broker, so one awaited send per message caps throughput at one round trip per
 * message. The batcher queues messages, and sends whatever has accumulated as one `send()`:
 * after `lingerMs` when idle, at once when `maxBatchMessages`/`maxBatchBytes` is reached, and
 * straight after the previous send when the previous one took a while (so batches grow with
 * load by themselves). One send is in flight at a time, which keeps per-partition order and
 * matches what the idempotent producer does anyway.
 *
 * Each `enqueue(messages)` resolves only when every one of its messages is acknowledged, and
 * rejects with a `ProduceError` otherwise:
 * - `buffer_full` at once when queued + in-flight bytes would exceed `maxBufferBytes`
 *   (backpressure, never unbounded memory);
 * - `kafka_unavailable` when the send fails, or at once while a send has been stuck for longer
 *   than `ackTimeoutMs`;
 * - `timeout` when the messages are not acknowledged within `ackTimeoutMs`; their messages that
 *   are still queued are dropped (a message already in flight may still be written: the caller
 *   was told "not accepted", so a retry is safe and at worst a duplicate the warehouse absorbs);
 * - `shutting_down` after `close()`.
 */
import { createDeadlineQueue, type Deadline } from "../deadline_queue.ts";
import type { OutgoingMessage, Producer } from "./port.ts";
import { ProduceError } from "./produce_error.ts";

/** Limits of the batcher. */
export interface BatcherOptions {
  /** How long an idle batcher waits for more messages before sending. */
  lingerMs: number;
  /** Most messages in one send. */
  maxBatchMessages: number;
  /** Most bytes (keys, values, headers) in one send. */
  maxBatchBytes: number;
  /** Most bytes queued plus in flight; beyond it `enqueue` fails with `buffer_full`. */
  maxBufferBytes: number;
  /** How long a caller waits for the acknowledgement. */
  ackTimeoutMs: number;
}

/** What the batcher reports about each send (for metrics). */
export interface BatcherObserver {
  batchSent(messages: number, bytes: number, seconds: number, ok: boolean): void;
}

/** What `stats()` returns. */
export interface BatcherStats {
  queuedMessages: number;
  bufferedBytes: number;
  maxBufferBytes: number;
  inFlight: boolean;
  /** True while a send has been in flight for longer than `ackTimeoutMs`. */
  stalled: boolean;
  /** Outcome of the most recent finished send (true before the first). */
  lastSendOk: boolean;
}

/** Accumulates messages and sends them in batches. */
export interface Batcher {
  /**
   * Queues `messages`; resolves when Kafka acknowledged all of them.
   * @throws {ProduceError} (as a rejection) when they cannot be, or not in time.
   */
  enqueue(messages: OutgoingMessage[]): Promise<void>;
  /** Sends everything queued and waits until nothing is queued or in flight. */
  flush(): Promise<void>;
  /** Refuses new messages, then flushes. */
  close(): Promise<void>;
  stats(): BatcherStats;
}

interface Ticket {
  remaining: number;
  queued: number;
  queuedBytes: number;
  settled: boolean;
  resolve(): void;
  reject(err: ProduceError): void;
  /** Its acknowledgement timeout, on the batcher's one timer. */
  deadline: Deadline<Ticket> | undefined;
}

interface Entry {
  message: OutgoingMessage;
  bytes: number;
  ticket: Ticket;
}

/** Creates a batcher in front of `producer`. */
export function createBatcher(
  producer: Producer,
  opts: BatcherOptions,
  deps: { observer?: BatcherObserver; now?: () => number } = {},
): Batcher {
  const now = deps.now ?? performance.now.bind(performance);
  let queue: Entry[] = [];
  let deadEntries = 0;
  let bufferedBytes = 0;
  let inFlightSince: number | null = null;
  let lingerTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let lastSendOk = true;
  let idleWaiters: (() => void)[] = [];

  // Every caller waits `ackTimeoutMs`: one timer for all of them, not one per enqueue.
  const timedOut = new ProduceError(
    "timeout",
    `Kafka did not acknowledge the messages within ${opts.ackTimeoutMs} ms`,
  );
  const ackDeadlines = createDeadlineQueue<Ticket>({
    ms: opts.ackTimeoutMs,
    onExpire: (ticket) => settle(ticket, timedOut),
  });

  const stalled = () => inFlightSince !== null && now() - inFlightSince >= opts.ackTimeoutMs;

  const settle = (ticket: Ticket, err?: ProduceError) => {
    if (ticket.settled) return;
    ticket.settled = true;
    if (ticket.deadline) ackDeadlines.done(ticket.deadline);
    if (ticket.queued > 0) {
      // Its queued messages will be skipped: free their room now.
      bufferedBytes -= ticket.queuedBytes;
      deadEntries += ticket.queued;
      if (deadEntries > queue.length / 2) compact();
    }
    if (err) ticket.reject(err);
    else ticket.resolve();
  };

  const compact = () => {
    queue = queue.filter((e) => !e.ticket.settled);
    deadEntries = 0;
  };

  const schedule = () => {
    if (inFlightSince !== null) return; // the running send schedules the next one
    if (queue.length - deadEntries <= 0) {
      if (queue.length > 0) compact();
      return notifyIdle();
    }
    const full = queue.length - deadEntries >= opts.maxBatchMessages ||
      bufferedBytes >= opts.maxBatchBytes;
    if (full || opts.lingerMs === 0 || closed) {
      sendNext();
    } else if (lingerTimer === undefined) {
      lingerTimer = setTimeout(sendNext, opts.lingerMs);
    }
  };

  const sendNext = () => {
    clearTimeout(lingerTimer);
    lingerTimer = undefined;
    const batch: Entry[] = [];
    let bytes = 0;
    let taken = 0;
    for (; taken < queue.length; taken++) {
      const entry = queue[taken]!;
      if (entry.ticket.settled) {
        deadEntries--;
        continue;
      }
      if (batch.length >= opts.maxBatchMessages) break;
      if (batch.length > 0 && bytes + entry.bytes > opts.maxBatchBytes) break;
      batch.push(entry);
      bytes += entry.bytes;
      entry.ticket.queued--;
      entry.ticket.queuedBytes -= entry.bytes;
    }
    queue = taken === queue.length ? [] : queue.slice(taken);
    if (batch.length === 0) return schedule();
    inFlightSince = now();
    const started = inFlightSince;
    const finish = (err: ProduceError | null) => {
      // Free the room before waking callers, so that their next enqueue fits.
      bufferedBytes -= bytes;
      inFlightSince = null;
      lastSendOk = err === null;
      deps.observer?.batchSent(batch.length, bytes, (now() - started) / 1000, err === null);
      for (const e of batch) {
        if (err) settle(e.ticket, err);
        else if (--e.ticket.remaining === 0) settle(e.ticket);
      }
      schedule();
    };
    producer.send(batch.map((e) => e.message)).then(
      () => finish(null),
      (cause) =>
        finish(
          new ProduceError(
            "kafka_unavailable",
            `Kafka did not acknowledge the messages: ${(cause as Error)?.message ?? cause}`,
            { cause },
          ),
        ),
    );
  };

  const notifyIdle = () => {
    if (inFlightSince !== null || queue.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const flush = (): Promise<void> => {
    if (inFlightSince === null && queue.length === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    idleWaiters.push(resolve);
    if (inFlightSince === null) sendNext();
    return promise;
  };

  return {
    enqueue(messages) {
      if (closed) {
        return Promise.reject(
          new ProduceError("shutting_down", "The ingest is shutting down", {
            retryAfterSeconds: 5,
          }),
        );
      }
      if (stalled()) {
        return Promise.reject(
          new ProduceError(
            "kafka_unavailable",
            `Kafka has not acknowledged a send for more than ${opts.ackTimeoutMs} ms`,
          ),
        );
      }
      if (messages.length === 0) return Promise.resolve();
      let total = 0;
      const sizes = new Array<number>(messages.length);
      // A request's messages share one headers object: measure it once.
      let headers: OutgoingMessage["headers"] = undefined;
      let headerBytes = 0;
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        if (m.headers !== headers) {
          headers = m.headers;
          headerBytes = headersBytes(headers);
        }
        const size = m.key.length + m.value.length + 16 + headerBytes;
        sizes[i] = size;
        total += size;
      }
      if (bufferedBytes + total > opts.maxBufferBytes) {
        return Promise.reject(
          new ProduceError(
            "buffer_full",
            `The send buffer is full (${bufferedBytes} of ${opts.maxBufferBytes} bytes)`,
          ),
        );
      }
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      const ticket: Ticket = {
        remaining: messages.length,
        queued: messages.length,
        queuedBytes: total,
        settled: false,
        resolve,
        reject,
        deadline: undefined,
      };
      ticket.deadline = ackDeadlines.add(ticket);
      for (let i = 0; i < messages.length; i++) {
        queue.push({ message: messages[i]!, bytes: sizes[i]!, ticket });
      }
      bufferedBytes += total;
      schedule();
      return promise;
    },
    flush,
    close() {
      closed = true;
      return flush();
    },
    stats: () => ({
      queuedMessages: queue.length - deadEntries,
      bufferedBytes,
      maxBufferBytes: opts.maxBufferBytes,
      inFlight: inFlightSince !== null,
      stalled: stalled(),
      lastSendOk,
    }),
  };
}

/** Approximate bytes a message's headers occupy (with key and value + 16: the message's). */
function headersBytes(headers: OutgoingMessage["headers"]): number {
  let n = 0;
  if (headers) { for (const k in headers) n += k.length + headers[k]!.length; }
  return n;
}
