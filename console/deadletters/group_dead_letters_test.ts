import assert from "node:assert/strict";
import { DLQ_HEADERS } from "../../shared/dead_letter_headers.ts";
import { fakeKafkaSource } from "../../testing/fakes.ts";
import { groupDeadLetters, groupId, pageOfGroup } from "./group_dead_letters.ts";
import { scanDeadLetters } from "./scan_dead_letters.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const h = (entries: Record<string, string>) =>
  Object.entries(entries).map(([k, v]) => [k, bytes(v)] as [string, Uint8Array]);

function dlq(letters: { stage: string; reason: string; time: string; partition?: number }[]) {
  const kafka = fakeKafkaSource(["t.dlq"], 2);
  for (const l of letters) {
    kafka.append("t.dlq", l.partition ?? 0, {
      key: bytes("k"),
      value: bytes("{}"),
      timestamp: 0,
      headers: h({
        [DLQ_HEADERS.topic]: "t",
        [DLQ_HEADERS.partition]: "3",
        [DLQ_HEADERS.offset]: "41",
        [DLQ_HEADERS.stage]: l.stage,
        [DLQ_HEADERS.message]: l.reason,
        [DLQ_HEADERS.time]: l.time,
      }),
    });
  }
  return kafka;
}

Deno.test("dead letters group by stage and exact reason, largest group first", async () => {
  const kafka = dlq([
    { stage: "schema", reason: "user.email: Invalid email address", time: "2026-01-01T00:00:01Z" },
    {
      stage: "schema",
      reason: "user.email: Invalid email address",
      time: "2026-01-01T00:00:03Z",
      partition: 1,
    },
    {
      stage: "schema",
      reason: "user.email: Invalid email address; user.id: Invalid UUID",
      time: "2026-01-01T00:00:02Z",
    },
    { stage: "json", reason: "Message value is not JSON", time: "2026-01-01T00:00:00Z" },
  ]);
  const scan = await scanDeadLetters(kafka, "t.dlq", { limit: 100, maxMs: 10_000 });
  assert.equal(scan.total, 4);
  assert.equal(scan.letters[0]!.origin.offset, "41");
  const groups = groupDeadLetters(scan.letters);
  assert.deepEqual(groups.map((g) => [g.stage, g.reason, g.count]), [
    ["schema", "user.email: Invalid email address", 2],
    ["schema", "user.email: Invalid email address; user.id: Invalid UUID", 1],
    ["json", "Message value is not JSON", 1],
  ]);
  assert.equal(groups[0]!.id, groupId("schema", "user.email: Invalid email address"));
  assert.match(groups[0]!.id, /^[0-9a-f]{16}$/);
  assert.equal(groups[0]!.newest, Date.parse("2026-01-01T00:00:03Z"));
});

Deno.test("a group's records come newest first, a page at a time", async () => {
  const kafka = dlq(Array.from({ length: 5 }, (_, i) => ({
    stage: "write",
    reason: "value too long",
    time: `2026-01-01T00:00:0${i}Z`,
  })));
  const { letters } = await scanDeadLetters(kafka, "t.dlq", { limit: 100, maxMs: 10_000 });
  const id = groupId("write", "value too long");
  const first = pageOfGroup(letters, id, 0, 2);
  assert.deepEqual(first.items.map((l) => l.offset), [4n, 3n]);
  assert.deepEqual([first.page, first.pages, first.total], [0, 3, 5]);
  assert.deepEqual(pageOfGroup(letters, id, 2, 2).items.map((l) => l.offset), [0n]);
  assert.equal(pageOfGroup(letters, id, 99, 2).page, 2, "a page past the end is the last one");
  assert.deepEqual(pageOfGroup(letters, "0000000000000000", 0, 2).items, []);
});

Deno.test("scanDeadLetters() reads only the newest records, each partition its share", async () => {
  const kafka = dlq(Array.from({ length: 10 }, (_, i) => ({
    stage: "json",
    reason: "x",
    time: `2026-01-01T00:00:0${i}Z`,
    partition: i % 2,
  })));
  const scan = await scanDeadLetters(kafka, "t.dlq", { limit: 4, maxMs: 10_000 });
  assert.deepEqual(scan.letters.map((l) => `${l.partition}/${l.offset}`), [
    "0/3",
    "0/4",
    "1/3",
    "1/4",
  ]);
  assert.equal(scan.total, 10);
  let t = 0;
  const late = await scanDeadLetters(kafka, "t.dlq", { limit: 4, maxMs: 5, now: () => (t += 10) });
  assert.equal(late.partial, true, "stopped at its time limit");
});
