import assert from "node:assert/strict";
import { createDeadlineQueue } from "./deadline_queue.ts";

Deno.test("createDeadlineQueue() expires the deadlines not ended in time, in order, on one timer", async () => {
  const expired: string[] = [];
  const allExpired = Promise.withResolvers<void>();
  const queue = createDeadlineQueue<string>({
    ms: 20,
    onExpire(item) {
      expired.push(item);
      if (expired.length === 2) allExpired.resolve();
    },
  });
  queue.add("a");
  const b = queue.add("b");
  queue.add("c");
  queue.done(b);
  assert.equal(queue.live(), 2);
  await allExpired.promise;
  assert.deepEqual(expired, ["a", "c"], "the ended one never expires");
  assert.equal(queue.live(), 0);
  // Ending an expired deadline changes nothing.
  queue.done(b);
  assert.equal(queue.live(), 0);
});

Deno.test("createDeadlineQueue() holds no timer once every deadline has ended", () => {
  // Deno's sanitizers fail this test if a timer is left running.
  const queue = createDeadlineQueue<number>({
    ms: 60_000,
    onExpire: () => assert.fail("nothing expires"),
  });
  const deadlines = Array.from({ length: 3000 }, (_, i) => queue.add(i));
  for (const d of deadlines) queue.done(d);
  assert.equal(queue.live(), 0);
});
