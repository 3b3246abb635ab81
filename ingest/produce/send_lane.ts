/**
 * One send lane of the batcher (`batcher.ts`): the messages queued for one partition leader,
 * and when they are sent. What must stay true:
 *
 * - one send in flight per lane (`inFlightSince`), so per-partition order is kept;
 * - a lane sends at once when it holds `maxBatchMessages` or `maxBatchBytes`, when lingering is
 *   off or the batcher is closing, and otherwise after `lingerMs` (the send policy: `nextStep`);
 * - a message whose caller was already answered (timed out, failed) is never sent: it stays in
 *   the queue as a dead entry until it is skipped or the queue is compacted.
 */
import type { Deadline } from "../deadline_queue.ts";
import type { OutgoingMessage } from "./port.ts";
import type { ProduceError } from "./produce_error.ts";

/** One caller's `enqueue`: answered once all its messages are acknowledged, or on the first failure. */
export interface Ticket {
  /** Its messages not acknowledged yet. */
  remaining: number;
  /** Its messages still queued (not sent): they are dropped when it settles. */
  queued: number;
  entries: Entry[];
  settled: boolean;
  resolve(): void;
  reject(err: ProduceError): void;
  /** Its acknowledgement timeout, on the batcher's one timer. */
  deadline: Deadline<Ticket> | undefined;
}

/** One message of a ticket, queued in a lane. */
export interface Entry {
  message: OutgoingMessage;
  bytes: number;
  ticket: Ticket;
  /** The lane whose queue holds it; null once sent or dropped. */
  lane: SendLane | null;
}

/** The batch limits a lane sends by. */
export interface SendLimits {
  lingerMs: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
}

/** What a lane should do now. */
export type LaneStep = "send" | "linger" | "empty";

/** The queue and the send state of one partition leader. */
export class SendLane {
  /** The node id of the broker it sends to (`ONE_LANE`: leaders not known). */
  readonly id: number;
  /** Its entries in arrival order, dead ones (their ticket settled) included. */
  queue: Entry[] = [];
  /** Entries of `queue` whose ticket settled: skipped when sending. */
  dead = 0;
  /** Bytes of the live entries of `queue`. */
  queuedBytes = 0;
  /** When its send in flight started (null: none is). */
  inFlightSince: number | null = null;
  /** The linger timer, while one waits. */
  #linger: ReturnType<typeof setTimeout> | undefined;
  /** The batcher's send of this lane (the linger timer's callback), bound once. */
  readonly #sendNow: () => void;

  constructor(id: number, sendNow: (lane: SendLane) => void) {
    this.id = id;
    this.#sendNow = () => sendNow(this);
  }

  /** Queued entries whose caller still waits. */
  get live(): number {
    return this.queue.length - this.dead;
  }

  /** True while a send is in flight or anything is queued. */
  get busy(): boolean {
    return this.inFlightSince !== null || this.queue.length > 0;
  }

  /** True while its send has been in flight for `ackTimeoutMs` or longer at `t`. */
  isStalled(t: number, ackTimeoutMs: number): boolean {
    return this.inFlightSince !== null && t - this.inFlightSince >= ackTimeoutMs;
  }

  /** Queues `e` (whose `lane` is this one). */
  push(e: Entry): void {
    this.queue.push(e);
    this.queuedBytes += e.bytes;
  }

  /** `e`'s ticket settled while it was queued here: its room is free, it will be skipped. */
  drop(e: Entry): void {
    this.dead++;
    this.queuedBytes -= e.bytes;
  }

  /** Removes the dead entries from the queue. */
  compact(): void {
    const live: Entry[] = [];
    for (const e of this.queue) {
      if (e.ticket.settled) e.lane = null;
      else live.push(e);
    }
    this.queue = live;
    this.dead = 0;
  }

  /**
   * The send policy, for a lane with no send in flight: `send` now (a full batch, no
   * lingering, or closing), `linger` (the timer is set, if it was not), or `empty`.
   */
  nextStep(limits: SendLimits, closing: boolean): LaneStep {
    const live = this.live;
    if (live <= 0) {
      if (this.queue.length > 0) this.compact();
      return "empty";
    }
    const full = live >= limits.maxBatchMessages || this.queuedBytes >= limits.maxBatchBytes;
    if (full || limits.lingerMs === 0 || closing) return "send";
    this.#linger ??= setTimeout(this.#sendNow, limits.lingerMs);
    return "linger";
  }

  /** Stops the linger timer (the lane sends now, or goes). */
  clearLinger(): void {
    clearTimeout(this.#linger);
    this.#linger = undefined;
  }

  /**
   * Takes the next batch off the queue: live entries in order, up to the limits (at least one
   * entry, however large). Dead entries met on the way are skipped.
   */
  take(limits: SendLimits): { batch: Entry[]; bytes: number } {
    const queue = this.queue;
    const batch: Entry[] = [];
    let bytes = 0;
    let taken = 0;
    for (; taken < queue.length; taken++) {
      const entry = queue[taken]!;
      if (entry.ticket.settled) {
        this.dead--;
        entry.lane = null;
        continue;
      }
      if (batch.length >= limits.maxBatchMessages) break;
      if (batch.length > 0 && bytes + entry.bytes > limits.maxBatchBytes) break;
      batch.push(entry);
      bytes += entry.bytes;
      entry.lane = null;
      entry.ticket.queued--;
    }
    this.queue = taken === queue.length ? [] : queue.slice(taken);
    this.queuedBytes -= bytes;
    return { batch, bytes };
  }
}
