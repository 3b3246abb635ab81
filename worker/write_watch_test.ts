import assert from "node:assert/strict";
import { fakeSink } from "../testing/fakes.ts";
import type { WarehouseSink } from "./warehouse/port.ts";
import { testEvent, testUser } from "../testing/users.ts";
import { toUserRow, type UserRow } from "./warehouse/user_row.ts";
import { watchWrites } from "./write_watch.ts";

Deno.test("watchWrites() names a write that has run too long, and forgets it once it ends", async () => {
  let clock = 1_000;
  let finish!: () => void;
  const rows = fakeSink();
  const sink: WarehouseSink = {
    ensureTable: () => Promise.resolve(),
    ping: () => Promise.resolve(true),
    upsert: async (r) => {
      await new Promise<void>((resolve) => finish = resolve);
      return await rows.upsert(r);
    },
  };
  const watched = watchWrites(sink, () => clock);
  assert.equal(watched.slowWrite(5_000), undefined, "no write in progress");

  const writing = watched.sink.upsert([userRow(1)]);
  clock += 4_999;
  assert.equal(watched.slowWrite(5_000), undefined, "not slow yet");
  clock += 7_900;
  assert.equal(watched.slowWrite(5_000), "warehouse write in progress for 12 s");

  finish();
  assert.deepEqual(await writing, { stale: 0 });
  assert.equal(rows.rows.size, 1, "the write went through to the sink");
  assert.equal(watched.slowWrite(5_000), undefined, "ended");
});

Deno.test("watchWrites() forgets a write that failed", async () => {
  const rows = fakeSink();
  rows.failTransiently = 1;
  let clock = 0;
  const watched = watchWrites({
    ...rows,
    ensureTable: () => Promise.resolve(),
    ping: () => Promise.resolve(true),
    upsert: (r) => (clock += 60_000, rows.upsert(r)),
  }, () => clock);
  await assert.rejects(watched.sink.upsert([userRow(2)]), /connection refused/);
  assert.equal(watched.slowWrite(1), undefined);
});

function userRow(n: number): UserRow {
  return toUserRow(testEvent(testUser(n), new Date("2026-06-01T00:00:00.000Z")));
}
