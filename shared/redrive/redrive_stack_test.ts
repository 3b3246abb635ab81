import assert from "node:assert/strict";
import { silentLogger } from "../logger.ts";
import { sharedStack, uniqueName } from "../../stack/harness.ts";
import { DLQ_HEADERS, isErrorHeader } from "../dead_letter_headers.ts";
import {
  filterSuffix,
  matchesFilter,
  redriveGroupId,
  REDRIVEN_FROM_HEADER,
  redrivenHeaders,
} from "./redrive_filter.ts";
import { runRedrive } from "./run_redrive.ts";
import { setupPipeline } from "../../testing/pipeline.ts";
import { type RunningProgram, startProgram } from "../../testing/program.ts";
import { waitUntil } from "../../testing/wait.ts";
import { type RecordHeaders, textHeader } from "../record_headers.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const letter = (stage: string, reason: string): RecordHeaders => [
  textHeader("traceparent", "00-1-2-01"),
  textHeader(DLQ_HEADERS.stage, stage),
  textHeader(DLQ_HEADERS.message, reason),
  textHeader(DLQ_HEADERS.offset, "7"),
];
const texts = (headers: RecordHeaders) =>
  headers.map(([name, value]) => [name, new TextDecoder().decode(value)]);

Deno.test("matchesFilter() selects by stage and by reason text", () => {
  const h = letter("write", 'new row violates check constraint "no_rejects"');
  assert.ok(matchesFilter(h, { stages: [], reasonContains: "" }));
  assert.ok(matchesFilter(h, { stages: ["write", "schema"], reasonContains: "" }));
  assert.ok(!matchesFilter(h, { stages: ["schema"], reasonContains: "" }));
  assert.ok(matchesFilter(h, { stages: [], reasonContains: "NO_REJECTS" }));
  assert.ok(!matchesFilter(h, { stages: ["write"], reasonContains: "too long" }));
  assert.ok(
    matchesFilter([textHeader(DLQ_HEADERS.stage, "json"), ...h], {
      stages: ["write"],
      reasonContains: "",
    }),
    "a repeated header reads as its last value",
  );
});

Deno.test("redrivenHeaders() drops the error headers and says where the record came from", () => {
  const repeated = [textHeader("tenant", "a"), ...letter("json", "x"), textHeader("tenant", "b")];
  assert.deepEqual(texts(redrivenHeaders(repeated, "t.dlq/1/7")), [
    ["tenant", "a"],
    ["traceparent", "00-1-2-01"],
    ["tenant", "b"],
    [REDRIVEN_FROM_HEADER, "t.dlq/1/7"],
  ]);
  assert.equal(filterSuffix({ stages: ["write", "schema"], reasonContains: "" }), "schema,write");
  assert.equal(filterSuffix({ stages: [], reasonContains: "" }), "all");
  assert.match(
    redriveGroupId("w", { stages: ["schema"], reasonContains: "", reasonIs: "x" }),
    /^w-redrive-schema,reason_is=[0-9a-f]{8}$/,
  );
});

Deno.test("matchesFilter() takes one exact reason, or single dead letters by partition/offset", () => {
  const h = letter("schema", "user.email: Invalid email address");
  const both = letter("schema", "user.email: Invalid email address; user.id: Invalid UUID");
  const exact = {
    stages: ["schema"],
    reasonContains: "",
    reasonIs: "user.email: Invalid email address",
  };
  assert.ok(matchesFilter(h, exact));
  assert.ok(!matchesFilter(both, exact), "an exact reason is not a substring");
  const one = { stages: [], reasonContains: "", records: ["1/7"] };
  assert.ok(matchesFilter(h, one, "1/7"));
  assert.ok(!matchesFilter(h, one, "1/8"));
  assert.ok(!matchesFilter(h, one), "a filter of records needs the position");
  assert.notEqual(filterSuffix(one), filterSuffix({ ...one, records: ["1/8"] }));
  assert.match(filterSuffix(one), /^records=[0-9a-f]{8}$/);
});

Deno.test("runRedrive() moves matching dead letters back untouched and remembers its progress", async () => {
  const p = await setupPipeline(await sharedStack(), "w_redrive", 2);
  try {
    const records = [
      { key: "a", value: bytes('{"a":1}'), headers: letter("schema", "user.email: bad") },
      { key: "b", value: bytes("{"), headers: letter("json", "not JSON") },
      { key: "c", value: bytes('{"c":3}'), headers: letter("write", "value too long") },
    ];
    await p.kafka.produce(p.dlq, records);
    const base = { dlqTopic: p.dlq, topic: p.topic, dryRun: false, timeoutMs: 60_000 };
    const writeOnly = { stages: ["write"], reasonContains: "" };
    const group = uniqueName("redrive_write");

    const dry = await runRedrive(p.kafka.connection, {
      ...base,
      groupId: group,
      filter: writeOnly,
      dryRun: true,
    }, silentLogger);
    assert.deepEqual(dry, { moved: 1, skipped: 2 });

    const first = await runRedrive(
      p.kafka.connection,
      { ...base, groupId: group, filter: writeOnly },
      silentLogger,
    );
    assert.deepEqual(first, { moved: 1, skipped: 2 });
    const again = await runRedrive(
      p.kafka.connection,
      { ...base, groupId: group, filter: writeOnly },
      silentLogger,
    );
    assert.deepEqual(again, { moved: 0, skipped: 0 }, "progress was committed");

    const all = await runRedrive(p.kafka.connection, {
      ...base,
      groupId: uniqueName("redrive_all"),
      filter: { stages: [], reasonContains: "" },
    }, silentLogger);
    assert.deepEqual(all, { moved: 3, skipped: 0 });

    const moved = await p.kafka.readTopic(p.topic);
    assert.equal(moved.length, 4);
    const c = moved.find((m) => m.key === "c")!;
    assert.deepEqual(c.value, records[2]!.value, "original bytes");
    assert.equal(c.headers.traceparent, "00-1-2-01");
    assert.match(c.headers[REDRIVEN_FROM_HEADER]!, new RegExp(`^${p.dlq}/\\d/\\d+$`));
    assert.equal(c.headers[DLQ_HEADERS.stage], undefined, "error headers removed");
  } finally {
    await p.close();
  }
});

Deno.test("a repeated header keeps every value in order through the worker's dead letter and the re-drive", async () => {
  const p = await setupPipeline(await sharedStack(), "w_headers", 1);
  let worker: RunningProgram | undefined;
  try {
    // Kafka lets a name repeat; the order of the values (and between names) is the record's.
    const headers = [
      textHeader("tenant", "a"),
      textHeader("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
      textHeader("tenant", "b"),
      textHeader("empty", ""),
      textHeader("tenant", "c"),
    ];
    const original = texts(headers);
    await p.kafka.produce(p.topic, [{ key: "k", value: bytes("{not json"), headers }]);
    worker = await startProgram("worker", p.workerEnv);
    await waitUntil(() => p.caughtUp(), 60_000, "the invalid record to be dead-lettered");
    await worker.stop();
    worker = undefined;

    const [letter, ...more] = await p.kafka.readTopic(p.dlq);
    assert.equal(more.length, 0, "one dead letter");
    assert.equal(letter!.headers[DLQ_HEADERS.stage], "json");
    assert.deepEqual(
      letter!.headerList.slice(0, original.length),
      original,
      "the dead letter starts with the record's headers, every value in order",
    );
    assert.ok(letter!.headerList.slice(original.length).every(([name]) => isErrorHeader(name)));

    const moved = await runRedrive(p.kafka.connection, {
      dlqTopic: p.dlq,
      topic: p.topic,
      groupId: uniqueName("redrive_headers"),
      filter: { stages: [], reasonContains: "" },
      dryRun: false,
      timeoutMs: 60_000,
    }, silentLogger);
    assert.deepEqual(moved, { moved: 1, skipped: 0 });
    const back = (await p.kafka.readTopic(p.topic)).find((r) => r.headers[REDRIVEN_FROM_HEADER]);
    assert.ok(back, "the re-driven record is on the topic");
    assert.deepEqual(
      back.headerList,
      [...original, [REDRIVEN_FROM_HEADER, `${p.dlq}/0/0`]],
      "the re-driven record carries the record's headers as they were",
    );
  } finally {
    await worker?.stop();
    await p.close();
  }
});
