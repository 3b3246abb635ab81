/**
 * When the committer's buffer is sealed into a batch: at `flushRows` records or `flushBytes`
 * bytes, `flushMs` after its first record, and, with `flushWhenIdle`, at once when nothing more
 * is waiting (the consumer's own buffer is empty), so a quiet stream is written immediately.
 *
 * It owns the two timers that make a seal happen later (the buffer's age, the idle check); the
 * committer says when the buffer changed (`consider`) and what sealing is (`seal`).
 */

/** When a buffer is written. */
export interface FlushPolicy {
  flushRows: number;
  flushBytes: number;
  flushMs: number;
  /** Write at once when nothing more is waiting. */
  flushWhenIdle: boolean;
}

/** What the policy looks at: the buffer's size and the arrival of its first record. */
export interface BufferSize {
  records: number;
  bytes: number;
  /** When its first record arrived. */
  since: number;
}

/** What the policy needs of the committer. */
export interface SealPolicyDeps {
  now: () => number;
  /** Records fetched but not yet handed over (0: nothing more is waiting). */
  waiting(): number;
  /** Seals the buffer now. */
  seal(): void;
  /** A timer fired: look at the buffer again (the committer calls `consider` if it may seal). */
  recheck(): void;
}

/** The global `setImmediate` of Deno's Node compatibility (`main.ts` makes it fast). */
const immediate = globalThis as unknown as {
  setImmediate(fn: () => void): unknown;
  clearImmediate(handle: unknown): void;
};

/** Decides when a buffer is sealed, and keeps the timers that seal it later. */
export class SealPolicy {
  readonly #policy: FlushPolicy;
  readonly #deps: SealPolicyDeps;
  /** Fires when the buffer is `flushMs` old. */
  #ageTimer: ReturnType<typeof setTimeout> | undefined;
  /** Fires on the next macrotask, for the idle check (`flushWhenIdle` only). */
  #idleTimer: unknown;

  constructor(policy: FlushPolicy, deps: SealPolicyDeps) {
    this.#policy = policy;
    this.#deps = deps;
  }

  /** True when the buffer has reached its size (records or bytes). */
  full(buffer: BufferSize): boolean {
    return buffer.records >= this.#policy.flushRows || buffer.bytes >= this.#policy.flushBytes;
  }

  /**
   * Seals a non-empty buffer that is full or old enough, or sets the timers that will look
   * again. Call it only when a seal is allowed (the committer has no sealed batch waiting).
   */
  consider(buffer: BufferSize): void {
    if (buffer.records === 0) return;
    const { now } = this.#deps;
    const age = now() - buffer.since;
    if (this.full(buffer) || age >= this.#policy.flushMs) {
      this.#deps.seal();
      return;
    }
    this.#ageTimer ??= setTimeout(() => {
      this.#ageTimer = undefined;
      this.#deps.recheck();
    }, Math.max(0, this.#policy.flushMs - age));
    if (this.#policy.flushWhenIdle && this.#idleTimer === undefined) {
      // After the records that arrived together: the next macrotask, when the consumer has
      // handed over what it had. `setImmediate`, not `setTimeout(…, 0)`, which waits 1 ms in
      // Deno: the worker's `main.ts` installs a `setImmediate` without that delay.
      this.#idleTimer = immediate.setImmediate(() => {
        this.#idleTimer = undefined;
        if (this.#deps.waiting() === 0) this.#deps.seal();
        else this.#deps.recheck();
      });
    }
  }

  /** Clears both timers (the buffer was sealed, emptied, or the committer stops). */
  clear(): void {
    clearTimeout(this.#ageTimer);
    if (this.#idleTimer !== undefined) immediate.clearImmediate(this.#idleTimer);
    this.#ageTimer = this.#idleTimer = undefined;
  }
}
