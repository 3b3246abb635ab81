/**
 * Bounded, seeded hostile input for the worker (FUZZ_SEED overrides the seed, FUZZ_SCALE
 * multiplies the counts): random bytes, mutated valid envelopes, structurally hostile
 * envelopes and valid events whose text is hostile to SQL go to a unique topic; the real
 * `deno task worker` process consumes them into a unique schema of the shared stack's
 * PostgreSQL.
 *
 * `decodeEvent` (the one validator) is the model: every record it refuses must be in the
 * dead-letter topic once, with its original bytes, the stage it failed at and a reason; every
 * valid event's id must be a row holding exactly the event's text (or, if the warehouse refuses
 * it for good, be dead-lettered at stage `write`); no other rows; and the worker must neither
 * crash nor stall.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import postgres from "postgres";
import { decodeEvent, encodeEvent, newEvent, parseUser, type User } from "../shared/event.ts";
import { testKafka, type TopicRecord } from "../testing/kafka.ts";
import { startProgram } from "../testing/program.ts";
import { sampleUser } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";
import { sharedStack, uniqueName } from "../stack/harness.ts";
import { createRng, type Rng } from "../testing/rng.ts";
import { FuzzCounts, HOSTILE_STRINGS, mutateBytes, randomJson } from "./_fuzz.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261124);
const SCALE = Number(Deno.env.get("FUZZ_SCALE") ?? 1);
const INDEX_HEADER = "fuzz-index";

/** One produced record and what the model says about it. */
interface Produced {
  category: string;
  key: string | null;
  value: Uint8Array | null;
  /** The decoded event, or the stage at which `decodeEvent` refuses it. */
  decoded: ReturnType<typeof decodeEvent>;
}

/** Text values that must reach the warehouse byte for byte (or be refused as a whole). */
const SQL_HOSTILE = [
  "'; DROP TABLE users; --",
  "Robert'); DELETE FROM users WHERE ('1'='1",
  '" OR 1=1 --',
  "\\",
  "$1",
  "E'\\\\x00'",
  "a\u0000b",
  "\u202eevil",
  "😀".repeat(60),
  "\r\n\t",
  "%s%n",
  "\ud800",
];

function user(i: number, overrides: Partial<User> = {}): User {
  const hex = (0xf00000 + i).toString(16).padStart(12, "0");
  return { ...parseUser(sampleUser(i)), id: `7b2e3f40-5a6b-4c7d-8e9f-${hex}`, ...overrides };
}

/** The envelope of `u`; its event id derives from `at`, so a seed always makes the same bytes. */
function envelope(u: User, at: number): Uint8Array {
  const eventId = `0e000000-0000-4000-8000-${at.toString(16).padStart(12, "0")}`;
  return encodeEvent(newEvent(u, "webhook", new Date(Date.UTC(2026, 0, 1) + at), eventId));
}

const generators: Record<string, (rng: Rng, i: number) => Omit<Produced, "decoded">> = {
  valid: (_rng, i) => {
    const u = user(i);
    return { category: "valid", key: u.id, value: envelope(u, i) };
  },
  sql_hostile_valid: (rng, i) => {
    const u = user(i, {
      first_name: rng.pick(SQL_HOSTILE),
      last_name: rng.pick(SQL_HOSTILE),
      address: rng.pick(HOSTILE_STRINGS),
    });
    return { category: "sql_hostile_valid", key: u.id, value: envelope(u, i) };
  },
  random_bytes: (rng) => ({
    category: "random_bytes",
    key: rng.chance(0.3) ? null : Buffer.from(rng.bytes(1 + rng.int(40))).toString("latin1"),
    value: rng.chance(0.05) ? null : rng.bytes(rng.int(400)),
  }),
  mutated_envelope: (rng, i) => {
    const u = user(i);
    return { category: "mutated_envelope", key: u.id, value: mutateBytes(rng, envelope(u, i)) };
  },
  hostile_envelope: (rng, i) => {
    const u = user(i);
    const event: Record<string, unknown> = JSON.parse(new TextDecoder().decode(envelope(u, i)));
    const field = rng.pick([...Object.keys(event), "user.id", "user.email", "user.dob"]);
    const value = rng.chance(0.5) ? randomJson(rng, 3) : rng.pick(HOSTILE_STRINGS);
    if (field.startsWith("user.")) {
      (event.user as Record<string, unknown>)[field.slice(5)] = value;
    } else {
      event[field] = value;
    }
    const text = rng.chance(0.1) ? JSON.stringify([event]) : JSON.stringify(event);
    return {
      category: "hostile_envelope",
      key: u.id,
      value: new TextEncoder().encode(text),
    };
  },
};

const PLAN: [string, number][] = [
  ["valid", 200],
  ["sql_hostile_valid", 100],
  ["random_bytes", 200],
  ["mutated_envelope", 300],
  ["hostile_envelope", 200],
];

Deno.test("fuzz: the worker dead-letters every bad record with a reason and writes every valid one", async () => {
  const stack = await sharedStack();
  const kafka = testKafka(stack.KAFKA_BROKERS);
  const topic = uniqueName("fuzz_worker");
  const dlq = `${topic}.dlq`;
  const schema = uniqueName("fuzz_worker");
  const groupId = `${topic}_group`;
  const sql = postgres(stack.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
  let worker: Awaited<ReturnType<typeof startProgram>> | undefined;
  try {
    await kafka.createTopics([topic], 3);
    await kafka.createTopics([dlq], 1);

    const rng = createRng(SEED);
    const produced: Produced[] = [];
    let i = 0;
    for (const [category, n] of PLAN) {
      for (let k = 0; k < n * SCALE; k++, i++) {
        const record = generators[category]!(rng, i);
        produced.push({ ...record, decoded: decodeEvent(record.value) });
      }
    }
    for (let start = 0; start < produced.length; start += 500) {
      await kafka.produce(
        topic,
        produced.slice(start, start + 500).map((p, j) => ({
          key: p.key,
          value: p.value,
          headers: {
            [INDEX_HEADER]: String(start + j),
            ...(rng.chance(0.2) ? { "x-fuzz": rng.bytes(rng.int(64)) } : {}),
          },
        })),
      );
    }

    worker = await startProgram("worker", {
      KAFKA_BROKERS: stack.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: dlq,
      KAFKA_GROUP_ID: groupId,
      WAREHOUSE_URL: stack.WAREHOUSE_URL,
      WAREHOUSE_SCHEMA: schema,
      WORKER_PORT: "0",
      WORKER_HOSTNAME: "127.0.0.1",
      WORKER_FLUSH_ROWS: "100",
      // COPY's text format is where escaping could go wrong (INSERT binds parameters).
      WAREHOUSE_STAGING: "copy",
    });
    await waitFor(
      () => kafka.committedUpTo(groupId, topic),
      90_000,
      "the worker to commit the whole topic",
      () => worker!.logs.slice(-5).map((l) => JSON.stringify(l)).join("\n"),
    );
    assert.equal(worker.logs.find((l) => l.level === "error"), undefined, "no error logged");

    const letters = await kafka.readTopic(dlq);
    const rows = await sql.unsafe<Record<string, string>[]>(
      `select id, event_id, first_name, last_name, address from ${schema}.users`,
    );
    const counts = check(produced, letters, rows);
    // deno-lint-ignore no-console
    console.log(counts.table(`worker hostile input (seed ${SEED})`));

    const status = await worker.stop();
    worker = undefined;
    assert.equal(status.code, 0, "the worker stops cleanly");
  } finally {
    await worker?.stop();
    await kafka.admin.deleteTopics([topic, dlq]).catch(() => {});
    await sql.unsafe(`drop schema if exists ${schema} cascade`).catch(() => {});
    await sql.end();
  }
});

/** The assertions of the model; returns the counts per category and outcome. */
function check(
  produced: Produced[],
  letters: TopicRecord[],
  rows: readonly Record<string, string>[],
): FuzzCounts {
  const byIndex = new Map<number, (typeof letters)[number][]>();
  for (const letter of letters) {
    const index = Number(letter.headers[INDEX_HEADER]);
    assert.ok(Number.isInteger(index), `a dead letter without its original headers: ${letter.key}`);
    byIndex.set(index, [...(byIndex.get(index) ?? []), letter]);
  }
  const rowById = new Map(rows.map((r) => [r.id ?? "", r]));
  const goodIds = new Map<string, Produced[]>();
  const counts = new FuzzCounts();
  // Outcome codes for the table: 1 = row, 2 = dead letter (decode), 3 = dead letter (write).
  produced.forEach((p, index) => {
    const dead = byIndex.get(index) ?? [];
    const what = `seed ${SEED} record ${index} (${p.category})`;
    if (!p.decoded.ok) {
      assert.equal(dead.length, 1, `${what}: refused by decodeEvent, dead letters: ${dead.length}`);
      const letter = dead[0]!;
      assert.equal(letter.headers["__connect.errors.stage"], p.decoded.stage, what);
      assert.ok((letter.headers["__connect.errors.exception.message"] ?? "").length > 0, what);
      assert.deepEqual(
        letter.value ?? new Uint8Array(),
        p.value ?? new Uint8Array(),
        `${what}: the original bytes`,
      );
      counts.add(p.category, 2);
      return;
    }
    const id = p.decoded.event.user.id;
    goodIds.set(id, [...(goodIds.get(id) ?? []), p]);
    for (const letter of dead) {
      assert.equal(letter.headers["__connect.errors.stage"], "write", `${what}: a valid event`);
    }
    counts.add(p.category, dead.length > 0 ? 3 : 1);
  });
  for (const [id, events] of goodIds) {
    const row = rowById.get(id);
    const deadAtWrite = events.some((e) => byIndex.has(produced.indexOf(e)));
    assert.ok(row || deadAtWrite, `valid id ${id} is neither a row nor a dead letter`);
    if (!row) continue;
    const writer = events.find((e) => e.decoded.ok && e.decoded.event.event_id === row.event_id);
    assert.ok(writer?.decoded.ok, `row ${id} holds an event id that was never produced`);
    const user = writer.decoded.event.user;
    for (const field of ["first_name", "last_name", "address"] as const) {
      assert.equal(
        row[field],
        user[field],
        `row ${id}: ${field} stored byte for byte: ${JSON.stringify(row[field])} != ${
          JSON.stringify(user[field])
        }`,
      );
    }
  }
  for (const id of rowById.keys()) assert.ok(goodIds.has(id), `row ${id} from no valid event`);
  // The totals: nothing lost, nothing invented.
  const refused = produced.filter((p) => !p.decoded.ok).length;
  const deadIds = [...goodIds].filter(([, events]) =>
    events.some((e) => byIndex.has(produced.indexOf(e)))
  );
  const writeLetters = deadIds.reduce(
    (n, [, events]) =>
      n + events.reduce((m, e) => m + (byIndex.get(produced.indexOf(e))?.length ?? 0), 0),
    0,
  );
  assert.equal(letters.length, refused + writeLetters, "dead letters = refused + write-stage");
  assert.equal(
    rowById.size + deadIds.filter(([id]) => !rowById.has(id)).length,
    goodIds.size,
    "rows + ids dead-lettered at write = distinct valid ids",
  );
  return counts;
}

/** `waitUntil`, with the worker's last log lines in the error when it times out. */
async function waitFor(
  check: () => Promise<boolean>,
  ms: number,
  what: string,
  context: () => string,
): Promise<void> {
  try {
    await waitUntil(check, ms, what, { intervalMs: 200 });
  } catch (err) {
    throw new Error(`${(err as Error).message}; last logs:\n${context()}`, { cause: err });
  }
}
