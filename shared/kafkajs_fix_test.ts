import assert from "node:assert/strict";
// @ts-types="./kafkajs_request_queue.d.ts"
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import { fixKafkajsRequestQueue } from "./kafkajs_fix.ts";

interface QueueState {
  throttleCheckTimeoutId: number | null;
  throttledUntil: number;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

function queue(pending: unknown[], throttledUntil = -1): QueueState {
  const q = Object.create(RequestQueue.prototype) as QueueState;
  q.throttleCheckTimeoutId = null;
  q.throttledUntil = throttledUntil;
  q.pending = pending;
  q.checkPendingRequests = () => {};
  return q;
}

Deno.test("fixed kafkajs request queue arms no timer when nothing is pending", () => {
  fixKafkajsRequestQueue();
  const q = queue([]);
  q.scheduleCheckPendingRequests();
  assert.equal(q.throttleCheckTimeoutId, null);
});

Deno.test("fixed kafkajs request queue checks a waiting request once, then stops", async () => {
  fixKafkajsRequestQueue();
  const q = queue([{ correlationId: 1 }]);
  const { promise, resolve } = Promise.withResolvers<void>();
  let checks = 0;
  q.checkPendingRequests = () => {
    checks++;
    q.pending = []; // the request went out
    q.scheduleCheckPendingRequests();
    resolve();
  };
  q.scheduleCheckPendingRequests();
  assert.notEqual(q.throttleCheckTimeoutId, null);
  await promise;
  assert.equal(checks, 1);
  assert.equal(q.throttleCheckTimeoutId, null, "no timer re-armed once the queue is empty");
});
