import assert from "node:assert/strict";
import { createPullJob } from "./pull_job.ts";
import { randomUserResult } from "../../testing/users.ts";
import { FakeTracing } from "../../testing/fakes.ts";

Deno.test("createPullJob() produces mapped users keyed by login.uuid and keeps a history", async () => {
  const produced: string[][] = [];
  let t = Date.parse("2026-11-24T10:00:00Z");
  const job = createPullJob({
    fetchUsers: () =>
      Promise.resolve({ results: [randomUserResult("0c3e5a7d-1b2f-4c6d-8e9f-a0b1c2d3e4f5")] }),
    produce: (users) => {
      produced.push(users.map((u) => u.id));
      return Promise.resolve(users.map(() => crypto.randomUUID()));
    },
    traceparent: () => "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    now: () => t++,
  }, { history: 2 });
  for (let i = 0; i < 3; i++) assert.equal((await job.run("schedule")).outcome, "ok");
  assert.deepEqual(produced, Array(3).fill(["0c3e5a7d-1b2f-4c6d-8e9f-a0b1c2d3e4f5"]));
  const runs = job.runs();
  assert.equal(runs.length, 2, "history is bounded");
  assert.ok(runs[0]!.started_at > runs[1]!.started_at, "newest first");
});

Deno.test("createPullJob() records a failed produce and skips overlapping runs", async () => {
  const gate = Promise.withResolvers<void>();
  const job = createPullJob({
    fetchUsers: async () => {
      await gate.promise;
      return { results: [randomUserResult(crypto.randomUUID())] };
    },
    produce: () => Promise.reject(new Error("Kafka did not acknowledge")),
    traceparent: () => "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  });
  const first = job.run("schedule");
  const second = await job.run("manual");
  assert.equal(second.outcome, "skipped");
  gate.resolve();
  const done = await first;
  assert.equal(done.outcome, "failed");
  assert.equal(done.error, "Kafka did not acknowledge");
  assert.deepEqual(job.runs().map((r) => r.outcome), ["failed", "skipped"]);
});

Deno.test("createPullJob() with tracing ends a failed run's span marked failed", async () => {
  const tracing = new FakeTracing();
  const job = createPullJob({
    fetchUsers: () => Promise.reject(new Error("randomuser.me answered 503")),
    produce: () => Promise.reject(new Error("nothing to produce")),
    traceparent: () => assert.fail("with tracing on, the run's span is the context"),
    tracing,
  });
  assert.equal((await job.run("schedule")).outcome, "failed");
  const [span] = tracing.named("randomuser pull");
  assert.ok(span?.ended && span.failed);
  assert.equal(span.parent, undefined, "a scheduled run starts a trace");
  assert.equal(span.attributes["user_pipeline.pull.trigger"], "schedule");
  assert.equal(span.attributes["user_pipeline.pull.outcome"], "failed");
});
