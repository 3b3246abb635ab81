/**
 * A fix for kafkajs 2.2.4's request queue, applied once per process by `createKafka`.
 *
 * In 2.2.4 `RequestQueue.scheduleCheckPendingRequests` re-arms a `setTimeout` with a negative
 * delay every time it runs, even when nothing is pending: every broker connection spins a
 * ~1 ms timer loop (kafkajs issues #1556 and #1704, fix proposed in pull request #1667,
 * unreleased). Under Node it costs CPU; under Deno the cost is small (`deno task
 * bench:kafkajs-idle`: 98 ms vs 90 ms of CPU per 10 s for an idle consumer and producer). What
 * matters here is that a late response re-arms the loop after `disconnect()`: the timers never
 * stop, so a stopped client keeps the event loop alive (no clean exit without `Deno.exit`) and
 * Deno's test sanitizers report leaked timers. The fixed version only schedules a
 * check while requests are waiting, at the throttle's end or after 10 ms. A request that finds
 * the queue empty is sent at once by `push()`, and every response re-checks the queue, so no
 * waiting request can be forgotten.
 */
// @ts-types="./kafkajs_request_queue.d.ts"
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
let applied = false;

/** Replaces the looping scheduler; safe to call many times. */
export function fixKafkajsRequestQueue(): void {
  if (applied) return;
  applied = true;
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueState) {
    if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
    const wait = Math.max(this.throttledUntil - Date.now(), CHECK_PENDING_REQUESTS_INTERVAL_MS);
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, wait);
  };
}

interface RequestQueueState {
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  throttledUntil: number;
  pending: unknown[];
  checkPendingRequests(): void;
}
