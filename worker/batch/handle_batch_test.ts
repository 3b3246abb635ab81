import assert from "node:assert/strict";
import { encodeEvent, SCHEMA_VERSION } from "../../shared/event.ts";
import { fakeDeadLetters, fakeSink, FakeTracing, message } from "../../testing/fakes.ts";
import { testEvent, testUser } from "../../testing/users.ts";
import { handleBatch } from "./handle_batch.ts";
import { DeadLetterError, DLQ_HEADERS } from "./dead_letter.ts";
import { WriteError } from "../warehouse/write_error.ts";
import { PartitionHolds } from "./partition_holds.ts";
import { headerText, textHeader } from "../../shared/record_headers.ts";

const t0 = Date.parse("2026-03-01T12:00:00.000Z");
const decoder = new TextDecoder();
const now = () => new Date("2026-03-02T00:00:00.000Z");

function valid(i: number, offset: number, at = t0, first_name?: string) {
  const user = testUser(i, "0000", first_name ? { first_name } : {});
  const event = testEvent(user, new Date(at));
  return { event, msg: message(offset, encodeEvent(event), user.id) };
}

Deno.test("handleBatch() writes valid records and dead-letters each invalid one with its stage", async () => {
  const sink = fakeSink();
  const dl = fakeDeadLetters();
  const a = valid(1, 10);
  const b = valid(2, 11);
  const badEmail = JSON.stringify({ ...a.event, user: { ...a.event.user, email: "nope" } });
  const out = await handleBatch([
    a.msg,
    message(12, new Uint8Array([0xff])),
    message(13, "{"),
    message(14, badEmail),
    b.msg,
  ], { sink, deadLetters: dl, now });

  assert.equal(out.rows, 2);
  assert.deepEqual([...sink.rows.keys()].sort(), [a.event.user.id, b.event.user.id].sort());
  assert.deepEqual(dl.sent.map((d) => d.stage), ["utf8", "json", "schema"]);
  assert.deepEqual(dl.sent.map((d) => headerText(d.headers, DLQ_HEADERS.offset)), [
    "12",
    "13",
    "14",
  ]);
  assert.equal(headerText(dl.sent[2]!.headers, DLQ_HEADERS.issuePaths), "user.email");
  assert.equal(decoder.decode(dl.sent[2]!.value!), badEmail, "original bytes untouched");
  assert.equal(sink.calls.length, 1, "one transaction for the batch");
});

Deno.test("handleBatch() keeps only the newest event of an id within a batch", async () => {
  const sink = fakeSink();
  const dl = fakeDeadLetters();
  const older = valid(7, 1, t0, "Old");
  const newer = valid(7, 2, t0 + 1000, "New");
  const stale = valid(7, 3, t0 - 1000, "Stale");
  const out = await handleBatch([older.msg, newer.msg, stale.msg], {
    sink,
    deadLetters: dl,
    now,
  });
  assert.equal(out.rows, 1);
  assert.equal(out.superseded, 2);
  assert.equal(sink.rows.get(newer.event.user.id)![1], "New");
});

Deno.test("handleBatch() counts the rows the warehouse left as they were because its row was newer", async () => {
  const sink = fakeSink();
  const dl = fakeDeadLetters();
  const newer = valid(8, 1, t0 + 1000, "New");
  const nine = valid(9, 2);
  await handleBatch([newer.msg, nine.msg], { sink, deadLetters: dl, now });
  const late = valid(8, 3, t0, "Late");
  const again = message(4, encodeEvent(nine.event), nine.event.user.id); // delivered again
  const out = await handleBatch([late.msg, again, valid(10, 5).msg], {
    sink,
    deadLetters: dl,
    now,
  });
  assert.deepEqual({ rows: out.rows, stale: out.stale, superseded: out.superseded }, {
    rows: 3,
    stale: 2,
    superseded: 0,
  });
  assert.equal(sink.rows.get(newer.event.user.id)![1], "New");
});

Deno.test("handleBatch() isolates a row the warehouse rejects and writes the rest", async () => {
  const sink = fakeSink();
  const dl = fakeDeadLetters();
  const records = Array.from({ length: 9 }, (_, i) => valid(i, 100 + i));
  sink.rejectIds.add(records[5]!.event.user.id);
  const out = await handleBatch(records.map((r) => r.msg), { sink, deadLetters: dl, now });
  assert.equal(out.rows, 8);
  assert.equal(sink.rows.size, 8);
  assert.equal(dl.sent.length, 1);
  assert.equal(dl.sent[0]!.stage, "write");
  assert.equal(headerText(dl.sent[0]!.headers, DLQ_HEADERS.offset), "105");
  assert.match(
    String(headerText(dl.sent[0]!.headers, DLQ_HEADERS.message)),
    /violates check constraint/,
  );
});

Deno.test("handleBatch() throws a retriable WriteError on an outage and dead-letters nothing", async () => {
  const sink = fakeSink();
  sink.failTransiently = 1;
  const dl = fakeDeadLetters();
  const err = await handleBatch([valid(1, 1).msg, message(2, "{")], {
    sink,
    deadLetters: dl,
    now,
  }).catch((e) => e);
  assert.ok(err instanceof WriteError);
  assert.equal(err.action, "retry");
  assert.equal(dl.sent.length, 0);
});

Deno.test("handleBatch() throws DeadLetterError when the dead-letter topic does not acknowledge", async () => {
  const dl = fakeDeadLetters();
  dl.fail = true;
  const err = await handleBatch([message(1, "{")], { sink: fakeSink(), deadLetters: dl, now })
    .catch((e) => e);
  assert.ok(err instanceof DeadLetterError);
  assert.match(err.message, /Cannot write 1 dead letters: broker not available/);
});

Deno.test("handleBatch() keeps a dead letter's traceparent header and, with tracing, spans decoding and the dead-letter send", async () => {
  const tracing = new FakeTracing();
  const dl = fakeDeadLetters();
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const bad = { ...message(20, "{"), headers: [textHeader("traceparent", traceparent)] };
  const flush = tracing.startSpan("process user_created");
  await tracing.withSpan(
    flush,
    () =>
      handleBatch([valid(1, 19).msg, bad], {
        sink: fakeSink(),
        deadLetters: dl,
        now,
        tracing,
        deadLetterTopic: "user_created.dlq",
      }),
  );
  assert.equal(
    headerText(dl.sent[0]!.headers, "traceparent"),
    traceparent,
    "the record's trace goes along",
  );
  const [decode] = tracing.named("decode");
  const [send] = tracing.named("send user_created.dlq");
  assert.equal(decode?.parent, flush);
  assert.equal(decode.attributes["messaging.batch.message_count"], 2);
  assert.equal(send?.parent, flush);
  assert.equal(send.options.kind, "producer");
  assert.equal(send.attributes["messaging.destination.name"], "user_created.dlq");
  assert.equal(send.attributes["messaging.batch.message_count"], 1);
  assert.ok(decode.ended && send.ended);
});

Deno.test("handleBatch() holds a partition at a record of a newer schema_version: nothing at or past it is written or dead-lettered, other partitions go on", async () => {
  const sink = fakeSink();
  const dl = fakeDeadLetters();
  const holds = new PartitionHolds();
  const on = (partition: number, m: ReturnType<typeof message>) => ({ ...m, partition });
  const newer = JSON.stringify({ ...valid(5, 0).event, schema_version: SCHEMA_VERSION + 1 });
  const out = await handleBatch([
    on(0, valid(1, 10).msg),
    on(0, message(11, newer)),
    on(1, valid(2, 20).msg),
    on(0, valid(3, 12).msg), // past the hold: not written, even though it is valid
    on(0, message(13, "{")), // past the hold: not dead-lettered either
    on(1, message(21, "{")),
  ], { sink, deadLetters: dl, now, holds });
  assert.equal(out.rows, 2);
  assert.deepEqual([...sink.rows.keys()].sort(), [testUser(1).id, testUser(2).id].sort());
  assert.equal(out.held, 3);
  assert.deepEqual(out.newHolds, [{
    topic: "user_created",
    partition: 0,
    offset: 11n,
    version: SCHEMA_VERSION + 1,
  }]);
  assert.deepEqual(
    dl.sent.map((d) => headerText(d.headers, DLQ_HEADERS.offset)),
    ["21"],
    "partition 1's",
  );
  assert.equal(holds.at("user_created", 0), 11n);
  assert.match(
    holds.problem(new Set(["user_created:0"]))!,
    new RegExp(
      `^schema_version ${
        SCHEMA_VERSION + 1
      } is newer than this worker .*upgrade the workers \\(partitions held at partition@offset: 0@11\\)$`,
    ),
  );
  assert.equal(holds.problem(new Set(["user_created:1"])), undefined, "not owned: not said");

  // The next batch: records past the hold are skipped; one before it (read again after a
  // rejoin) is written; a newer record met again does not count as a new hold.
  const again = await handleBatch([
    on(0, valid(4, 9).msg),
    on(0, message(11, newer)),
    on(0, valid(6, 14).msg),
  ], { sink, deadLetters: dl, now, holds });
  assert.equal(again.rows, 1);
  assert.equal(again.held, 2);
  assert.deepEqual(again.newHolds, []);
  assert.ok(sink.rows.has(testUser(4).id));
});

Deno.test("handleBatch(): a newer version-1 event of a user does not swallow an older version-2 event's nat and cell in the same batch", async () => {
  const sink = fakeSink();
  const dl = fakeDeadLetters();
  const id = testUser(8).id;
  const event = (at: number, o: Record<string, unknown>, offset: number) => {
    const e = testEvent(testUser(8, "0000", o), new Date(at));
    return message(offset, encodeEvent(e), id);
  };
  const out = await handleBatch([
    event(t0, { nat: "GB", cell: "07700 900000" }, 1),
    event(t0 + 1000, { last_name: "Later" }, 2),
  ], { sink, deadLetters: dl, now });
  assert.deepEqual(sink.calls, [1, 1], "the older, wider row first, then the newer one");
  assert.equal(out.rows, 2);
  assert.equal(out.superseded, 0);
  const row = sink.rows.get(id)!;
  assert.equal(row[2], "Later");
  assert.deepEqual(row.slice(-2), ["GB", "07700 900000"]);

  // The other way round, the newer row sets every column: the older one is superseded.
  const other = fakeSink();
  const again = await handleBatch([
    event(t0, { last_name: "Older" }, 3),
    event(t0 + 1000, { nat: "IE", cell: null }, 4),
  ], { sink: other, deadLetters: dl, now });
  assert.deepEqual(other.calls, [1]);
  assert.equal(again.superseded, 1);
  assert.deepEqual(other.rows.get(id)!.slice(-2), ["IE", null]);
});
