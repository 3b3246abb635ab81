/**
 * Many deadlines of one length on one timer: what a per-request `setTimeout` would do, without
 * a timer (and its closure) for every request.
 *
 * Every entry gets the same `ms`, so entries expire in the order they were added: a FIFO whose
 * head holds the next deadline. One timer is armed for the head; when it fires, every entry due
 * expires, and the timer is armed again for the next live one. An entry that ends in time is
 * only marked (`done`) and skipped later; when no live entry is left the timer is cleared, so
 * an idle process (or a test, under Deno's sanitizers) holds no timer.
 *
 * Used by the body deadline (`read_body.ts`) and the batcher's acknowledgement timeout.
 */

/** One deadline; `done()` marks it ended in time. */
export interface Deadline<T> {
  /** What the deadline is for (handed to `onExpire`). */
  readonly item: T;
  /** When it expires, on the queue's clock. */
  readonly at: number;
  /** True once ended in time or expired. */
  settled: boolean;
}

/** A queue of deadlines of one length. */
export interface DeadlineQueue<T> {
  /** Starts a deadline of the queue's length for `item`. */
  add(item: T): Deadline<T>;
  /** Ends `deadline` in time; a settled one is left alone. */
  done(deadline: Deadline<T>): void;
  /** Deadlines neither ended nor expired (for tests). */
  live(): number;
}

/** Options of `createDeadlineQueue`. */
export interface DeadlineQueueOptions<T> {
  /** Every deadline's length in ms. */
  ms: number;
  /** Called once for each deadline that expires, with its item. */
  onExpire(item: T): void;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

/** Creates a queue of deadlines of `opts.ms`. */
export function createDeadlineQueue<T>(opts: DeadlineQueueOptions<T>): DeadlineQueue<T> {
  const now = opts.now ?? performance.now.bind(performance);
  let entries: Deadline<T>[] = [];
  let head = 0;
  let live = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Infinity;

  const arm = () => {
    while (head < entries.length && entries[head]!.settled) head++;
    if (head === entries.length) {
      entries = [];
      head = 0;
      return;
    }
    // Drop the skipped prefix now and then, so the array does not grow with the traffic.
    if (head > 1024 && head * 2 > entries.length) {
      entries = entries.slice(head);
      head = 0;
    }
    const at = entries[head]!.at;
    if (timer !== undefined && timerAt <= at) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(fire, Math.max(0, at - now()));
  };

  const fire = () => {
    timer = undefined;
    timerAt = Infinity;
    const t = now();
    while (head < entries.length) {
      const d = entries[head]!;
      if (!d.settled) {
        if (d.at > t) break;
        d.settled = true;
        live--;
        opts.onExpire(d.item);
      }
      head++;
    }
    arm();
  };

  return {
    add(item) {
      const d: Deadline<T> = { item, at: now() + opts.ms, settled: false };
      entries.push(d);
      live++;
      if (timer === undefined) arm();
      return d;
    },
    done(d) {
      if (d.settled) return;
      d.settled = true;
      if (--live === 0) {
        clearTimeout(timer);
        timer = undefined;
        timerAt = Infinity;
        entries = [];
        head = 0;
      }
    },
    live: () => live,
  };
}
