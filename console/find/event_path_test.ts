import assert from "node:assert/strict";
import { eventPath, type PathEvidence } from "./event_path.ts";

const row = {
  id: "u",
  event_id: "e2",
  source: "webhook",
  event_time: "2026-01-01T00:00:02.000Z",
  date_added: "2026-01-01T00:00:00.500Z",
  updated_at: "2026-01-01T00:00:02.100Z",
};
const base: PathEvidence = {
  offset: 5n,
  eventId: "e2",
  acceptedAt: "2026-01-01T00:00:02.000Z",
  committed: 6n,
  warehouseAsked: true,
  row,
};

Deno.test("eventPath(): written when committed past it and the row carries its event", () => {
  assert.deepEqual(eventPath(base), {
    kind: "written",
    date_added: row.date_added,
    updated_at: row.updated_at,
  });
});

Deno.test("eventPath(): superseded by the newer event the row carries, by time then by event id", () => {
  const older = { ...base, eventId: "e1", acceptedAt: "2026-01-01T00:00:01.000Z" };
  assert.deepEqual(eventPath(older), {
    kind: "superseded",
    by: { event_id: "e2", source: "webhook", event_time: row.event_time },
  });
  assert.equal(eventPath({ ...base, eventId: "e1" }).kind, "superseded", "same time, smaller id");
  assert.deepEqual(eventPath({ ...base, eventId: "e3" }), {
    kind: "unknown",
    why: "committed, but the user's row holds an older event",
  });
});

Deno.test("eventPath(): dead-lettered wins over everything else; waiting says by how much", () => {
  const deadLetter = { stage: "schema", reason: "user.email: bad", partition: 2, offset: 9n };
  assert.deepEqual(eventPath({ ...base, deadLetter }), {
    kind: "dead-lettered",
    stage: "schema",
    reason: "user.email: bad",
    partition: 2,
    offset: "9",
    redriven: null,
  });
  const redrivenTo = { partition: 1, offset: 40n };
  assert.deepEqual(
    (eventPath({ ...base, deadLetter: { ...deadLetter, redrivenTo } }) as { redriven: unknown })
      .redriven,
    { partition: 1, offset: "40" },
    "re-driven, and to where",
  );
  assert.deepEqual(eventPath({ ...base, committed: 3n }), {
    kind: "waiting",
    committed: "3",
    recordsAhead: 2,
  });
  assert.deepEqual(eventPath({ ...base, committed: 5n }), {
    kind: "waiting",
    committed: "5",
    recordsAhead: 0,
  });
  assert.deepEqual(eventPath({ ...base, committed: undefined }), {
    kind: "waiting",
    committed: null,
    recordsAhead: 5,
  });
});

Deno.test("eventPath(): says unknown, and why, when the evidence is missing", () => {
  assert.match(
    (eventPath({ ...base, warehouseAsked: false, row: undefined }) as { why: string }).why,
    /CONSOLE_WAREHOUSE_URL/,
  );
  assert.match((eventPath({ ...base, row: undefined }) as { why: string }).why, /no row/);
  assert.match(
    (eventPath({ ...base, eventId: undefined }) as { why: string }).why,
    /not a valid event/,
  );
});
