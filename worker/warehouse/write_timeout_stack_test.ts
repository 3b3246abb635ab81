/**
 * Integration: a write on a connection that goes silent (its bytes swallowed by a relay in
 * front of PostgreSQL of the shared stack, no reset) fails as retriable at the sink's write
 * deadline, and the next write goes through on a new connection, without loss, also when the
 * warehouse had applied the abandoned write and only its answer was lost.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { sharedStack, uniqueName } from "../../stack/harness.ts";
import { startTcpRelay, type TcpRelay } from "../../testing/tcp_relay.ts";
import { testEvent, testUser } from "../../testing/users.ts";
import { waitUntil } from "../../testing/wait.ts";
import { createPostgresDialect, type Staging } from "./postgres_dialect.ts";
import { createReplaceablePool, type ReplaceablePool } from "./replaceable_pool.ts";
import { createWarehouseSink } from "./sink.ts";
import { toUserRow, type UserRow } from "./user_row.ts";
import { WRITE_TIMEOUT } from "./write_deadline.ts";
import { WriteError } from "./write_error.ts";

/** `n` rows of users from `from`, their events at second `s` (the same call, the same events). */
function rows(from: number, n: number, s = 1): UserRow[] {
  const at = new Date(Date.UTC(2026, 5, 1, 0, 0, s));
  return Array.from(
    { length: n },
    (_, i) => toUserRow(testEvent(testUser(from + i, "0011"), at, `ev-${s}-${from + i}`)),
  );
}

/** A sink through `relay` with a 1 s deadline, its pool, and a direct client to look. */
async function setUp(staging: Staging) {
  const stack = await sharedStack();
  const url = new URL(stack.WAREHOUSE_URL);
  const relay = startTcpRelay({ hostname: url.hostname, port: Number(url.port) });
  const relayed = new URL(stack.WAREHOUSE_URL);
  relayed.port = String(relay.port);
  const schema = uniqueName(`w_hang_${staging}`);
  const direct = postgres(stack.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
  const pool = createReplaceablePool(() =>
    postgres(relayed.href, { max: 1, connect_timeout: 10, onnotice: () => {} })
  );
  const sink = createWarehouseSink(
    pool,
    createPostgresDialect({ schema, table: "users" }, { staging }),
    { writeTimeoutMs: 1_000 },
  );
  const count = async () =>
    Number((await direct.unsafe(`SELECT count(*)::int AS n FROM ${schema}.users`))[0]!.n);
  return { relay, pool, sink, direct, schema, count };
}

async function tearDown(
  t: { relay: TcpRelay; pool: ReplaceablePool; direct: postgres.Sql; schema: string },
) {
  await t.pool.end({ timeout: 1 });
  await t.relay.close();
  await t.direct.unsafe(`DROP SCHEMA IF EXISTS ${t.schema} CASCADE`);
  await t.direct.end();
}

async function timedOut(write: Promise<unknown>): Promise<WriteError> {
  const err = await write.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof WriteError, `a WriteError, not ${String(err)}`);
  assert.equal(err.code, WRITE_TIMEOUT, err.message);
  assert.equal(err.action, "retry");
  return err;
}

for (const staging of ["copy", "auto"] as Staging[]) {
  Deno.test(`createWarehouseSink() abandons a write on a silent connection and writes again on a new one (${staging})`, async () => {
    const t = await setUp(staging);
    try {
      await t.sink.ensureTable();
      assert.deepEqual(await t.sink.upsert(rows(0, 300)), { stale: 0 });
      const connections = t.relay.accepted;

      t.relay.swallow("both");
      await timedOut(t.sink.upsert(rows(300, 300)));
      assert.equal(await t.count(), 300, "nothing of the abandoned write was applied");

      t.relay.heal();
      // With the hung connection kept, this write would queue behind it and time out too.
      assert.deepEqual(await t.sink.upsert(rows(300, 300)), { stale: 0 });
      assert.ok(t.relay.accepted > connections, "the write after the timeout connected anew");
      assert.equal(await t.count(), 600);
    } finally {
      await tearDown(t);
    }
  });
}

Deno.test("createWarehouseSink() retries without loss a write whose COMMIT the warehouse applied but whose answer was lost", async () => {
  const t = await setUp("copy"); // BEGIN, stage, COPY, merge, then postgres.js sends COMMIT
  try {
    await t.sink.ensureTable();
    // postgres.js's first `commit` on a connection is parsed from its text; the client hears
    // nothing from then on.
    t.relay.swallowAnswersAfter("\0commit\0");
    await timedOut(t.sink.upsert(rows(0, 20, 5)));
    await waitUntil(async () => (await t.count()) === 20, 10_000, "the lost write committed");

    t.relay.heal();
    assert.deepEqual(
      await t.sink.upsert(rows(0, 20, 5)),
      { stale: 20 },
      "the retry finds every row written already, and changes none",
    );
    const [r] = await t.direct.unsafe(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE event_time = '2026-06-01T00:00:05Z')::int
         AS newest FROM ${t.schema}.users`,
    );
    assert.deepEqual({ ...r }, { n: 20, newest: 20 });
  } finally {
    await tearDown(t);
  }
});
