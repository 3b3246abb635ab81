import assert from "node:assert/strict";
import { DLQ_HEADERS } from "../../shared/dead_letter_headers.ts";
import { encodeEvent } from "../../shared/event.ts";
import { REDRIVEN_FROM_HEADER, redrivenHeaders } from "../../shared/redrive/redrive_filter.ts";
import { fakeKafkaSource } from "../../testing/fakes.ts";
import { testEvent, testUser } from "../../testing/users.ts";
import { headerText, recordView } from "../records/record_view.ts";
import type { WarehouseRow, WarehouseSource } from "../sources/warehouse_source.ts";
import { findEvent } from "./find_event.ts";
import { scanBackwards } from "./scan_backwards.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const T0 = Date.parse("2026-01-01T00:00:00Z");

function world() {
  const kafka = fakeKafkaSource(["t", "t.dlq"], 3);
  const rows = new Map<string, WarehouseRow>();
  const asked: string[] = [];
  const warehouse: WarehouseSource = {
    row: (id) => (asked.push(id), Promise.resolve(rows.get(id))),
    close: () => Promise.resolve(),
  };
  /** Appends event `n` of `user` to the user's partition (as the producer would). */
  const accept = (user: ReturnType<typeof testUser>, n: number, trace = "0".repeat(32)) => {
    const event = testEvent(
      user,
      new Date(T0 + n * 1000),
      `00000000-0000-4000-9000-${String(n).padStart(12, "0")}`,
    );
    const p = kafka.partitionOf(user.id, 3);
    const r = kafka.append("t", p, {
      key: enc(user.id),
      value: encodeEvent(event),
      timestamp: T0 + n * 1000,
      headers: [["traceparent", enc(`00-${trace}-00000000000000aa-01`)]],
    });
    return { event, r };
  };
  const deps = {
    kafka,
    warehouse,
    topic: "t",
    dlqTopic: "t.dlq",
    groupId: "g",
    maxRecords: 10_000,
    maxMs: 10_000,
    now: Date.now,
  };
  return { kafka, rows, asked, accept, deps };
}

Deno.test("findEvent() by user id reads only the key's partition and tells each event's path", async () => {
  const w = world();
  const user = testUser(1, "f1000000");
  const other = testUser(2, "f1000000");
  const first = w.accept(user, 1);
  w.accept(other, 2);
  const second = w.accept(user, 3);
  const third = w.accept(user, 4);
  const p = first.r.partition;
  // The workers committed past the first two of the user's events.
  w.kafka.commits.set("g t", new Map([[p, third.r.offset]]));
  w.rows.set(user.id, {
    id: user.id,
    event_id: second.event.event_id,
    source: "webhook",
    event_time: second.event.accepted_at,
    date_added: "2026-01-01T00:00:01.500Z",
    updated_at: "2026-01-01T00:00:03.500Z",
  });
  const result = await findEvent({ by: "user", id: user.id }, w.deps);
  assert.deepEqual(result.topicScan.partitions, [p]);
  assert.ok(
    w.kafka.reads.every((r) => r.startsWith(`t/${p}@`) || r.startsWith("t.dlq/")),
    w.kafka.reads.join(),
  );
  assert.deepEqual(result.found.map((f) => [f.eventId, f.path.kind]), [
    [third.event.event_id, "waiting"],
    [second.event.event_id, "written"],
    [first.event.event_id, "superseded"],
  ]);
  assert.deepEqual(result.found[0]!.path, {
    kind: "waiting",
    committed: String(third.r.offset),
    recordsAhead: 0,
  });
  assert.deepEqual(w.asked, [user.id], "the row is read once per user");
});

Deno.test("findEvent() shows each event as it is on the topic: a version-2 user's nat and cell, a version-1 user without them", async () => {
  const w = world();
  const user = testUser(5, "f5000000", { nat: "CH", cell: "075 418 52 46" });
  w.accept(testUser(5, "f5000000"), 1);
  w.accept(user, 2);
  const result = await findEvent({ by: "user", id: user.id }, w.deps);
  // The page shows the record's value verbatim (the server cuts it at VIEW_LIMITS.value), so
  // every field the event carries is there and the version is the envelope's first field.
  const [v2, v1] = result.found.map((f) => recordView(f.record).value.text);
  assert.match(v2!, /^\{"schema_version":2,/);
  assert.ok(v2!.includes('"nat":"CH"') && v2!.includes('"cell":"075 418 52 46"'), v2);
  assert.match(v1!, /^\{"schema_version":1,/);
  assert.ok(!v1!.includes('"nat"') && !v1!.includes('"cell"'), v1);
});

Deno.test("findEvent() by event id finds a dead-lettered event in any partition", async () => {
  const w = world();
  const user = testUser(3, "f2000000");
  const { event, r } = w.accept(user, 1);
  w.kafka.commits.set("g t", new Map([[r.partition, r.offset + 1n]]));
  w.kafka.append("t.dlq", w.kafka.partitionOf(user.id, 3), {
    key: enc(user.id),
    value: r.value,
    timestamp: T0 + 2000,
    headers: [
      [DLQ_HEADERS.topic, enc("t")],
      [DLQ_HEADERS.partition, enc(String(r.partition))],
      [DLQ_HEADERS.offset, enc(String(r.offset))],
      [DLQ_HEADERS.stage, enc("write")],
      [DLQ_HEADERS.message, enc("value too long for type character varying(1024)")],
    ],
  });
  const result = await findEvent({ by: "event", id: event.event_id }, w.deps);
  assert.deepEqual(result.topicScan.partitions, [0, 1, 2]);
  assert.equal(result.found.length, 1);
  assert.deepEqual(result.found[0]!.path, {
    kind: "dead-lettered",
    stage: "write",
    reason: "value too long for type character varying(1024)",
    partition: w.kafka.partitionOf(user.id, 3),
    offset: "0",
    redriven: null,
  });
  assert.deepEqual(w.asked, [], "a dead-lettered event needs no row");
});

Deno.test("findEvent() by trace id finds every event of the request", async () => {
  const w = world();
  const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  w.accept(testUser(4, "f3000000"), 1, trace);
  w.accept(testUser(5, "f3000000"), 2);
  w.accept(testUser(6, "f3000000"), 3, trace);
  const result = await findEvent({ by: "trace", id: trace }, { ...w.deps, warehouse: undefined });
  assert.deepEqual(result.found.map((f) => f.userId), [
    testUser(6, "f3000000").id,
    testUser(4, "f3000000").id,
  ]);
  assert.ok(result.found.every((f) => f.path.kind === "waiting"));
});

Deno.test("scanBackwards() reads newest first and stops at its record limit", async () => {
  const w = world();
  for (let i = 0; i < 10; i++) w.kafka.append("t", 0, { timestamp: i });
  const seen: bigint[] = [];
  const summary = await scanBackwards(w.kafka, {
    topic: "t",
    partitions: [0],
    maxRecords: 4,
    maxMs: 10_000,
    now: Date.now,
    chunk: 3,
  }, (r) => (seen.push(r.offset), false));
  assert.deepEqual(seen, [9n, 8n, 7n, 6n]);
  assert.deepEqual(summary, { records: 4, stoppedBy: "records" });
  let t = 0;
  const late = await scanBackwards(w.kafka, {
    topic: "t",
    partitions: [0],
    maxRecords: 100,
    maxMs: 5,
    now: () => (t += 10),
    chunk: 3,
  }, () => false);
  assert.equal(late.stoppedBy, "time");
});

Deno.test("scanBackwards() reads on when an answer stops short of the step (a byte limit), skipping no record", async () => {
  const kafka = fakeKafkaSource(["t"], 1);
  for (let i = 0; i < 23; i++) kafka.append("t", 0, { key: new TextEncoder().encode(`k${i}`) });
  // Answers of at most 2 records, as a fetch of large records cut by its byte limit.
  const short = {
    ...kafka,
    read: async (topic: string, p: number, offset: bigint, limits?: { maxRecords?: number }) =>
      (await kafka.read(topic, p, offset, limits)).slice(0, 2),
  };
  const seen: bigint[] = [];
  const summary = await scanBackwards(
    short,
    { topic: "t", partitions: [0], maxRecords: 100, maxMs: 60_000, now: Date.now, chunk: 5 },
    (r) => (seen.push(r.offset), false),
  );
  assert.equal(summary.stoppedBy, "done");
  assert.deepEqual(
    seen,
    Array.from({ length: 23 }, (_, i) => BigInt(22 - i)),
    "every record, newest first",
  );
});

Deno.test("findEvent() reports the topic scan, then the dead-letter scan, and stops when aborted", async () => {
  const w = world();
  const user = testUser(7, "f7000000");
  const { r } = w.accept(user, 1);
  w.kafka.commits.set("g t", new Map([[r.partition, r.offset + 1n]]));
  const phases: string[] = [];
  await findEvent({ by: "user", id: user.id }, w.deps, {
    onProgress: (p) => phases.push(`${p.phase} ${p.topic} ${p.records}`),
  });
  assert.deepEqual(phases, ["topic t 0", "topic t 1", "dead-letters t.dlq 0"]);

  const cancel = new AbortController();
  w.kafka.reads.length = 0;
  w.asked.length = 0;
  await assert.rejects(
    findEvent({ by: "user", id: user.id }, w.deps, {
      signal: cancel.signal,
      onProgress: (p) => p.records > 0 && cancel.abort(),
    }),
    { name: "AbortError" },
  );
  assert.deepEqual(w.kafka.reads, [`t/${r.partition}@0`], "no dead letter read after the abort");
  assert.deepEqual(w.asked, [], "no row read after the abort");
});

Deno.test("findEvent() tells a dead letter re-driven by the copy that names it, by event id and by user id", async () => {
  const w = world();
  const user = testUser(8, "f8000000");
  const { event, r } = w.accept(user, 1);
  const dlqPartition = w.kafka.partitionOf(user.id, 3);
  w.kafka.append("t.dlq", dlqPartition, { timestamp: T0 + 1500 }); // another dead letter
  const dl = w.kafka.append("t.dlq", dlqPartition, {
    key: r.key,
    value: r.value,
    timestamp: T0 + 2000,
    headers: [
      ...r.headers,
      [DLQ_HEADERS.topic, enc("t")],
      [DLQ_HEADERS.partition, enc(String(r.partition))],
      [DLQ_HEADERS.offset, enc(String(r.offset))],
      [DLQ_HEADERS.stage, enc("write")],
      [DLQ_HEADERS.message, enc("value too long")],
    ],
  });
  w.kafka.commits.set("g t", new Map([[r.partition, r.offset + 1n]]));
  const before = await findEvent({ by: "event", id: event.event_id }, w.deps);
  assert.deepEqual(before.found.map((f) => f.path), [{
    kind: "dead-lettered",
    stage: "write",
    reason: "value too long",
    partition: dlqPartition,
    offset: String(dl.offset),
    redriven: null,
  }]);

  // What the re-drive produces (shared/redrive/run_redrive.ts): the dead letter's key, value
  // and headers, the error headers dropped and where it came from added.
  const copy = w.kafka.append("t", r.partition, {
    key: dl.key,
    value: dl.value,
    timestamp: T0 + 3000,
    headers: redrivenHeaders(dl.headers, `t.dlq/${dlqPartition}/${dl.offset}`),
  });
  for (const query of [{ by: "event", id: event.event_id }, { by: "user", id: user.id }] as const) {
    const after = await findEvent(query, w.deps);
    assert.deepEqual(
      after.found.map((f) => [String(f.record.offset), f.path.kind, f.redrivenFrom]),
      [
        [String(copy.offset), "waiting", `t.dlq/${dlqPartition}/${dl.offset}`],
        [String(r.offset), "dead-lettered", undefined],
      ],
      query.by,
    );
    assert.deepEqual(
      (after.found[1]!.path as { redriven: unknown }).redriven,
      { partition: r.partition, offset: String(copy.offset) },
      `${query.by}: re-driven, to the copy`,
    );
  }
  assert.equal(headerText(copy, REDRIVEN_FROM_HEADER), `t.dlq/${dlqPartition}/${dl.offset}`);

  // A copy of another dead letter (another offset, or another dead-letter topic) is not this one's.
  const w2 = world();
  const again = w2.accept(user, 1);
  w2.kafka.append("t.dlq", dlqPartition, { timestamp: T0 + 1500 });
  const dl2 = w2.kafka.append("t.dlq", dlqPartition, { ...dl, timestamp: T0 + 2000 });
  w2.kafka.commits.set("g t", new Map([[again.r.partition, again.r.offset + 1n]]));
  for (const from of [`t.dlq/${dlqPartition}/0`, `other.dlq/${dlqPartition}/${dl2.offset}`]) {
    w2.kafka.append("t", again.r.partition, {
      key: dl.key,
      value: dl.value,
      timestamp: T0 + 3000,
      headers: redrivenHeaders(dl.headers, from),
    });
  }
  const other = await findEvent({ by: "user", id: user.id }, w2.deps);
  assert.equal(other.found.at(-1)!.path.kind, "dead-lettered");
  assert.equal((other.found.at(-1)!.path as { redriven: unknown }).redriven, null);
});
