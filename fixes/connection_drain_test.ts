import assert from "node:assert/strict";
import { type ConnectionInfo, createConnectionDrain } from "./connection_drain.ts";

/** A request's connection as `Deno.serve` describes it; `answer()` settles `completed`. */
function connection(port: number) {
  const remoteAddr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port };
  return {
    request(): ConnectionInfo & { answer(): void; fail(): void } {
      const completed = Promise.withResolvers<void>();
      return {
        remoteAddr,
        completed: completed.promise,
        answer: () => completed.resolve(),
        fail: () => completed.reject(new Error("Interrupted")),
      };
    },
  };
}

const url = "http://ingest.test/v1/users";
const accepted = () => Promise.resolve(Response.json({ accepted: 1 }, { status: 202 }));
/** The program's answer to a request that starts once draining (the ingest's is a 503). */
const refuse = () =>
  Response.json({ reason: "shutting_down" }, { status: 503, headers: { "retry-after": "5" } });

/** Lets promise callbacks run. */
const settled = () => new Promise((r) => setTimeout(r, 0));

Deno.test("createConnectionDrain() passes answers through untouched until the drain", async () => {
  const drain = createConnectionDrain(accepted, { maxWaitMs: 1000, refuse });
  const info = connection(1).request();
  const response = await drain.handler(new Request(url, { method: "POST" }), info);
  assert.equal(response.status, 202);
  assert.equal(response.headers.get("connection"), null);
  info.answer();
  await settled();
  assert.deepEqual(drain.stats(), { connections: 1, owed: 1 });
  await response.body?.cancel();
});

Deno.test("createConnectionDrain() closes a request in flight with its own answer, then is drained", async () => {
  const release = Promise.withResolvers<void>();
  const drain = createConnectionDrain(async () => {
    await release.promise;
    return Response.json({ accepted: 1 }, { status: 202 });
  }, { maxWaitMs: 60_000, refuse });
  const info = connection(1).request();
  const answering = drain.handler(new Request(url, { method: "POST" }), info);
  let drained = false;
  const draining = drain.drain().then(() => drained = true);
  await settled();
  assert.equal(drained, false, "not drained while the request is in flight");
  release.resolve();
  const response = await answering;
  assert.equal(response.status, 202, "the request in flight keeps its answer");
  assert.equal(response.headers.get("connection"), "close");
  await settled();
  assert.equal(drained, false, "not drained before the answer is sent");
  info.answer();
  await draining;
  assert.deepEqual(drain.stats(), { connections: 0, owed: 0 });
  await response.body?.cancel();
});

Deno.test("createConnectionDrain() waits for an idle connection's next request and answers it 503", async () => {
  let calls = 0;
  const drain = createConnectionDrain(() => {
    calls++;
    return accepted();
  }, { maxWaitMs: 60_000, refuse });
  const conn = connection(1);
  const first = conn.request();
  await (await drain.handler(new Request(url, { method: "POST" }), first)).body?.cancel();
  first.answer();
  let drained = false;
  const draining = drain.drain().then(() => drained = true);
  await settled();
  assert.equal(drained, false, "an idle kept-alive connection is owed its last answer");

  const next = conn.request();
  const response = await drain.handler(new Request(url, { method: "POST" }), next);
  assert.equal(calls, 1, "the request after the drain began is not handled");
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("connection"), "close");
  assert.equal(response.headers.get("retry-after"), "5");
  const body = await response.json();
  assert.equal(body.reason, "shutting_down");
  next.answer();
  await draining;
});

Deno.test("createConnectionDrain() drains a connection whose client left without its answer", async () => {
  const drain = createConnectionDrain(accepted, { maxWaitMs: 60_000, refuse });
  const info = connection(1).request();
  await (await drain.handler(new Request(url, { method: "POST" }), info)).body?.cancel();
  info.fail();
  await settled();
  assert.deepEqual(drain.stats(), { connections: 0, owed: 0 });
  await drain.drain();
});

Deno.test("createConnectionDrain() forgets a connection unused for maxWaitMs and gives up after it", async () => {
  let t = 0;
  const drain = createConnectionDrain(accepted, { maxWaitMs: 50, refuse, now: () => t });
  const old = connection(1).request();
  await (await drain.handler(new Request(url, { method: "POST" }), old)).body?.cancel();
  old.answer();
  await settled();
  t = 1000;
  const recent = connection(2).request();
  await (await drain.handler(new Request(url, { method: "POST" }), recent)).body?.cancel();
  recent.answer();
  await settled();
  assert.deepEqual(drain.stats(), { connections: 1, owed: 1 }, "port 1 forgotten, port 2 owed");
  // Port 2 never sends again: the drain ends after maxWaitMs (a real timer) with it still owed.
  await drain.drain();
  assert.deepEqual(drain.stats(), { connections: 1, owed: 1 });
});
