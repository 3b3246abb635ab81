import assert from "node:assert/strict";
import { DLQ_HEADERS } from "../../shared/dead_letter_headers.ts";
import { silentLogger } from "../../shared/logger.ts";
import { fakeKafkaSource } from "../../testing/fakes.ts";
import { groupDeadLetters } from "../deadletters/group_dead_letters.ts";
import { createRedriveDesk } from "../deadletters/redrive_desk.ts";
import { scanDeadLetters } from "../deadletters/scan_dead_letters.ts";
import { createPoller } from "../live/poller.ts";
import { snapshotAt } from "../live/snapshot_fixture.ts";
import { createConsoleApp } from "./app.ts";
import { cachedScan, deadLetterRoutes } from "./dead_letter_routes.ts";
import { createSessions } from "./sessions.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const TOKEN = "0123456789abcdef-token";
const ORIGIN = "http://127.0.0.1:8070";

function consoleWith(records: { key: Uint8Array; value: Uint8Array; reason: string }[]) {
  const kafka = fakeKafkaSource(["t.dlq"], 1);
  for (const r of records) {
    kafka.append("t.dlq", 0, {
      key: r.key,
      value: r.value,
      timestamp: Date.parse("2026-01-01T00:00:00Z"),
      headers: [
        ["<img src=x onerror=alert(1)>", enc("javascript:alert(1)")],
        [DLQ_HEADERS.stage, enc("schema")],
        [DLQ_HEADERS.message, enc(r.reason)],
      ],
    });
  }
  const scan = cachedScan(() => scanDeadLetters(kafka, "t.dlq", { limit: 100, maxMs: 10_000 }));
  const runs: unknown[] = [];
  const desk = createRedriveDesk({
    run: (opts) => (runs.push(opts), Promise.resolve({ moved: 1, skipped: 0 })),
    workerGroupId: "w",
    findGroup: async (id) => groupDeadLetters((await scan.get()).letters).find((g) => g.id === id),
  });
  const handler = createConsoleApp({
    poller: createPoller({
      sample: () => Promise.resolve(snapshotAt(1)),
      intervalMs: 1000,
      historySize: 1,
      logger: silentLogger,
    }),
    staticFiles: new Map(),
    sessions: createSessions(),
    token: TOKEN,
    host: "127.0.0.1",
    logger: silentLogger,
    routes: deadLetterRoutes({
      scan,
      read: async (partition, offset) =>
        (await kafka.read("t.dlq", partition, offset, { maxRecords: 1 }))[0],
      desk,
    }),
  });
  const get = async (path: string) =>
    await (await handler(
      new Request(`${ORIGIN}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }),
    )).json();
  const post = (body: unknown) =>
    handler(
      new Request(`${ORIGIN}/api/redrive`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${TOKEN}`,
          origin: ORIGIN,
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
      }),
    );
  return { get, post, runs };
}

Deno.test("hostile dead letters reach the page only as bounded, inert text", async () => {
  const hostileKey = enc("<script>alert('key')</script>\u202Etxt.exe");
  const huge = new Uint8Array(900_000).fill(0x41);
  huge[10] = 0xff; // invalid UTF-8
  const { get } = consoleWith([{
    key: hostileKey,
    value: huge,
    reason: "<b>bold</b>\u2067 reason",
  }]);
  const groups = await get("/api/dead-letters");
  assert.equal(groups.groups.length, 1);
  const g = groups.groups[0];
  assert.equal(g.reason.text, "<b>bold</b>⟦U+2067⟧ reason", "as text, the bidi control visible");
  const page = await get(`/api/dead-letters/records?group=${g.id}&page=0`);
  const r = page.items[0].record;
  assert.equal(r.key.text, "<script>alert('key')</script>⟦U+202E⟧txt.exe");
  assert.equal(r.value.bytes, 900_000);
  assert.equal(r.value.truncated, true);
  assert.equal(r.value.invalidUtf8, true);
  assert.ok(r.value.text.length <= 16_384, "cut on the server");
  assert.ok(JSON.stringify(page).length < 100_000, "the answer stays small");
  assert.deepEqual(r.headers[0], {
    name: { text: "<img src=x onerror=alert(1)>", bytes: 28, truncated: false, invalidUtf8: false },
    value: { text: "javascript:alert(1)", bytes: 19, truncated: false, invalidUtf8: false },
  });
});

Deno.test("the re-drive route counts first, then moves with the confirmation", async () => {
  const { get, post, runs } = consoleWith([{ key: enc("k"), value: enc("{}"), reason: "bad" }]);
  const { groups } = await get("/api/dead-letters");
  assert.equal((await post({ scope: "group", group: groups[0].id, dryRun: false })).status, 428);
  assert.equal((await post({ scope: "nothing", dryRun: true })).status, 400);
  assert.equal(
    (await post({ scope: "record", partition: -1, offset: "1", dryRun: true })).status,
    400,
  );
  const dry = await (await post({ scope: "group", group: groups[0].id, dryRun: true })).json();
  assert.equal(dry.moved, 1);
  const done = await post({
    scope: "group",
    group: groups[0].id,
    dryRun: false,
    confirm: dry.confirm,
  });
  assert.equal(done.status, 200);
  assert.equal(runs.length, 2);
});
