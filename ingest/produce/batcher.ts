/**
 * The producer batcher: many callers' messages go to Kafka in few requests, in one send lane
 * per partition leader.
 *
 * The Kafka client sends one produce request per broker per `send()` call, and its idempotent
 * producer serialises requests per broker, so one awaited send per message caps throughput at
 * one round trip per message. The batcher queues messages and sends whatever has accumulated
 * as one `send()`: after `lingerMs` when idle, at once when `maxBatchMessages`/`maxBatchBytes`
 * is reached, and straight after the previous send when the previous one took a while (so
 * batches grow with load by themselves).
 *
 * Lanes. A send answers only when every broker in it answered, so one send for all partitions
 * lets a broker that hangs hold up everybody. Each message therefore takes the lane of the
 * broker leading its partition (`LaneRouter`: the producer's partitioner and metadata; one
 * lane, `ONE_LANE`, while the leaders are not known), and each lane has one send in flight at a
 * time: per-partition order is kept, each send carries one produce request (to its lane's
 * broker), and a hung broker stalls only the lane of the partitions it leads. A request's
 * messages may span lanes: it is answered when all of them are acknowledged.
 *
 * A partition whose leader moves changes lanes: its queued messages move to the new lane, in
 * order, at the next `enqueue` after the router's map changed. A send of the old lane may still
 * be in flight; the partition does not wait for it. If that older send is written after a
 * newer one, the warehouse's newer-wins rule on `accepted_at` keeps the newer event, and a
 * caller of the old send that was not acknowledged in time was answered 503 (retrying is safe).
 *
 * Each `enqueue(messages)` resolves only when every one of its messages is acknowledged, and
 * rejects with a `ProduceError` otherwise (all or nothing):
 * - `buffer_full` at once when queued + in-flight bytes of all lanes would exceed
 *   `maxBufferBytes` (backpressure, never unbounded memory);
 * - `kafka_unavailable` when a send of any of its lanes fails, or at once when one of its
 *   messages takes a lane whose send has been stuck for longer than `ackTimeoutMs` (the router is
 *   told, so that it looks for moved leaders); other lanes' messages are still accepted;
 * - `timeout` when the messages are not acknowledged within `ackTimeoutMs`; their messages that
 *   are still queued are dropped (a message already in flight may still be written: the caller
 *   was told "not accepted", so a retry is safe and at worst a duplicate the warehouse absorbs);
 * - `shutting_down` after `close()`.
 *
 * Its parts: `send_lane.ts` (one lane's queue and its send policy: size, bytes, linger),
 * `lane_table.ts` (the lanes kept in step with the router) and this file, which answers the
 * callers (tickets), bounds the buffer and runs each lane's send.
 */
import { createDeadlineQueue } from "../deadline_queue.ts";
import { LaneTable, oneLane } from "./lane_table.ts";
import { ONE_LANE, type OutgoingMessage, type Producer } from "./port.ts";
import type { LaneRouter } from "./port.ts";
import { ProduceError } from "./produce_error.ts";
import type { Entry, SendLane, Ticket } from "./send_lane.ts";

export { oneLane } from "./lane_table.ts";

/** Limits of the batcher. */
export interface BatcherOptions {
  /** How long an idle lane waits for more messages before sending. */
  lingerMs: number;
  /** Most messages in one send. */
  maxBatchMessages: number;
  /** Most bytes (keys, values, headers) in one send. */
  maxBatchBytes: number;
  /** Most bytes queued plus in flight, all lanes together; beyond it `enqueue` fails with `buffer_full`. */
  maxBufferBytes: number;
  /** How long a caller waits for the acknowledgement. */
  ackTimeoutMs: number;
}

/** What the batcher reports about each send (for metrics). */
export interface BatcherObserver {
  batchSent(messages: number, bytes: number, seconds: number, ok: boolean): void;
}

/** One lane in `stats()`. */
export interface LaneStats {
  /** The node id of the broker the lane sends to; `ONE_LANE` (-1) for leaders not known. */
  lane: number;
  queuedMessages: number;
  inFlight: boolean;
  /** True while its send has been in flight for longer than `ackTimeoutMs`. */
  stalled: boolean;
}

/** What `stats()` returns. */
export interface BatcherStats {
  queuedMessages: number;
  bufferedBytes: number;
  maxBufferBytes: number;
  /** True while any lane has a send in flight. */
  inFlight: boolean;
  /**
   * True when every lane messages can take now is stalled: every new message is refused. One
   * stalled lane among working ones is in `stalledLanes`, not here.
   */
  stalled: boolean;
  /** The lanes (broker node ids) whose send is stalled: their partitions' messages are refused. */
  stalledLanes: number[];
  /** Each lane that has work or may get some. */
  lanes: LaneStats[];
  /** Outcome of the most recent finished send of any lane (true before the first). */
  lastSendOk: boolean;
}

/** Accumulates messages and sends them in batches. */
export interface Batcher {
  /**
   * Queues `messages`; resolves when Kafka acknowledged all of them.
   * @throws {ProduceError} (as a rejection) when they cannot be, or not in time.
   */
  enqueue(messages: OutgoingMessage[]): Promise<void>;
  /** Sends everything queued and waits until nothing is queued or in flight in any lane. */
  flush(): Promise<void>;
  /** Refuses new messages, then flushes. */
  close(): Promise<void>;
  stats(): BatcherStats;
}

/** Creates a batcher in front of `producer`; `deps.lanes` says which lane a message takes. */
export function createBatcher(
  producer: Producer,
  opts: BatcherOptions,
  deps: { observer?: BatcherObserver; now?: () => number; lanes?: LaneRouter } = {},
): Batcher {
  const now = deps.now ?? performance.now.bind(performance);
  /** The send lanes, one per partition leader. */
  const lanes = new LaneTable(deps.lanes ?? oneLane, (lane) => sendNext(lane));
  /** Bytes queued plus in flight, all lanes together (bounded by `maxBufferBytes`). */
  let bufferedBytes = 0;
  /** Set by `close()`: new messages are refused, queued ones sent without lingering. */
  let closed = false;
  /** Outcome of the most recent finished send of any lane. */
  let lastSendOk = true;
  /** `flush()` callers, resolved when nothing is queued or in flight. */
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

  /** Answers a caller (once); its messages still queued are dropped. */
  const settle = (ticket: Ticket, err?: ProduceError) => {
    if (ticket.settled) return;
    ticket.settled = true;
    if (ticket.deadline) ackDeadlines.done(ticket.deadline);
    if (ticket.queued > 0) {
      // Its queued messages will be skipped: free their room now.
      ticket.queued = 0;
      for (const e of ticket.entries) {
        if (e.lane === null) continue;
        e.lane.drop(e);
        bufferedBytes -= e.bytes;
      }
      for (const lane of lanes.values()) {
        if (lane.dead > lane.queue.length / 2) lane.compact();
      }
    }
    if (err) ticket.reject(err);
    else ticket.resolve();
  };

  /** Sends `lane`'s queue now, later, or retires the lane, as its send policy says. */
  const schedule = (lane: SendLane): void => {
    if (lane.inFlightSince !== null) return; // the running send schedules the next one
    const step = lane.nextStep(opts, closed);
    if (step === "send") return sendNext(lane);
    if (step === "empty") {
      // A lane of a broker that leads nothing any more goes once it is idle.
      lanes.retireIfGone(lane);
      notifyIdle();
    }
  };

  /** Sends the next batch of `lane`, and schedules the one after when it is answered. */
  const sendNext = (lane: SendLane): void => {
    lane.clearLinger();
    const { batch, bytes } = lane.take(opts);
    if (batch.length === 0) return schedule(lane);
    const started = lane.inFlightSince = now();
    const finish = (err: ProduceError | null) => {
      // Free the room before waking callers, so that their next enqueue fits.
      bufferedBytes -= bytes;
      lane.inFlightSince = null;
      lastSendOk = err === null;
      deps.observer?.batchSent(batch.length, bytes, (now() - started) / 1000, err === null);
      for (const e of batch) {
        if (err) settle(e.ticket, err);
        else if (--e.ticket.remaining === 0) settle(e.ticket);
      }
      schedule(lane);
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

  const idle = () => {
    for (const lane of lanes.values()) if (lane.busy) return false;
    return true;
  };

  const notifyIdle = () => {
    if (idleWaiters.length === 0 || !idle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const flush = (): Promise<void> => {
    if (idle()) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    idleWaiters.push(resolve);
    for (const lane of [...lanes.values()]) {
      if (lane.inFlightSince === null && lane.queue.length > 0) sendNext(lane);
    }
    return promise;
  };

  const stalledError = (lane: SendLane) =>
    new ProduceError(
      "kafka_unavailable",
      lane.id === ONE_LANE
        ? `Kafka has not acknowledged a send for more than ${opts.ackTimeoutMs} ms`
        : `Kafka broker ${lane.id} has not acknowledged a send for more than ${opts.ackTimeoutMs} ms`,
    );

  return {
    enqueue(messages) {
      if (closed) {
        return Promise.reject(
          new ProduceError("shutting_down", "The ingest is shutting down", {
            retryAfterSeconds: 5,
          }),
        );
      }
      if (messages.length === 0) return Promise.resolve();
      if (lanes.stale) { for (const lane of lanes.reroute()) schedule(lane); }
      const t = now();
      const entries = new Array<Entry>(messages.length);
      const ticket: Ticket = {
        remaining: messages.length,
        queued: messages.length,
        entries,
        settled: false,
        resolve: noop,
        reject: noop,
        deadline: undefined,
      };
      let total = 0;
      // A request's messages share one headers object: measure it once.
      let headers: OutgoingMessage["headers"] = undefined;
      let headerBytes = 0;
      let checked: SendLane | undefined;
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        if (m.headers !== headers) {
          headers = m.headers;
          headerBytes = headersBytes(headers);
        }
        const lane = lanes.laneOf(m);
        if (lane !== checked) {
          if (lane.isStalled(t, opts.ackTimeoutMs)) {
            lanes.stalled(lane);
            return Promise.reject(stalledError(lane));
          }
          checked = lane;
        }
        const size = m.key.length + m.value.length + 16 + headerBytes;
        entries[i] = { message: m, bytes: size, ticket, lane };
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
      ticket.resolve = resolve;
      ticket.reject = reject;
      ticket.deadline = ackDeadlines.add(ticket);
      for (const e of entries) e.lane!.push(e);
      bufferedBytes += total;
      let scheduled: SendLane | null = null;
      for (const e of entries) {
        // Already sent (lingerMs 0) or scheduled: settled entries have no lane any more.
        if (e.lane === null || e.lane === scheduled) continue;
        scheduled = e.lane;
        schedule(e.lane);
      }
      return promise;
    },
    flush,
    close() {
      closed = true;
      return flush();
    },
    stats() {
      const t = now();
      let queuedMessages = 0;
      let inFlight = false;
      const laneStats: LaneStats[] = [];
      const stalledLanes: number[] = [];
      for (const lane of lanes.values()) {
        const stalled = lane.isStalled(t, opts.ackTimeoutMs);
        const queued = lane.live;
        queuedMessages += queued;
        inFlight ||= lane.inFlightSince !== null;
        if (stalled) stalledLanes.push(lane.id);
        laneStats.push({
          lane: lane.id,
          queuedMessages: queued,
          inFlight: lane.inFlightSince !== null,
          stalled,
        });
      }
      const current = lanes.current();
      return {
        queuedMessages,
        bufferedBytes,
        maxBufferBytes: opts.maxBufferBytes,
        inFlight,
        stalled: current.length > 0 && current.every((id) => stalledLanes.includes(id)),
        stalledLanes,
        lanes: laneStats,
        lastSendOk,
      };
    },
  };
}

function noop(): void {}

/** Approximate bytes a message's headers occupy (with key and value + 16: the message's). */
function headersBytes(headers: OutgoingMessage["headers"]): number {
  let n = 0;
  if (headers) { for (const k in headers) n += k.length + headers[k]!.length; }
  return n;
}
