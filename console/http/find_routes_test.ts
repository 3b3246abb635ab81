import assert from "node:assert/strict";
import { silentLogger } from "../../shared/logger.ts";
import { fakeKafkaSource } from "../../testing/fakes.ts";
import { findEvent, type FindOptions, type FindQuery } from "../find/find_event.ts";
import { createPoller } from "../live/poller.ts";
import { ApiError, createConsoleApp } from "./app.ts";
import { findQuery, findRoutes, traceOf } from "./find_routes.ts";
import { createSessions } from "./sessions.ts";

const q = (search: string) => findQuery(new URL(`http://c/api/find?${search}`));

Deno.test("findQuery() takes exactly one of user_id, event_id, trace_id, each in its shape", () => {
  assert.deepEqual(q("user_id=6A1F2C3D-0000-4000-8000-000000000001"), {
    by: "user",
    id: "6a1f2c3d-0000-4000-8000-000000000001",
  });
  assert.deepEqual(q("trace_id=4bf92f3577b34da6a3ce929d0e0e4736"), {
    by: "trace",
    id: "4bf92f3577b34da6a3ce929d0e0e4736",
  });
  for (
    const bad of ["", "user_id=x", "event_id=1&trace_id=2", "trace_id=<script>", "user_id=' or 1=1"]
  ) {
    assert.throws(() => q(bad), (e: unknown) => e instanceof ApiError && e.status === 400, bad);
  }
});

Deno.test("traceOf() links an event's trace through CONSOLE_TRACE_URL, and only a valid one", () => {
  const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  assert.deepEqual(traceOf(tp, "http://jaeger:16686/trace/{trace_id}"), {
    id: "4bf92f3577b34da6a3ce929d0e0e4736",
    url: "http://jaeger:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736",
  });
  assert.deepEqual(traceOf(tp, undefined), { id: "4bf92f3577b34da6a3ce929d0e0e4736" });
  for (
    const bad of [
      undefined,
      "",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"><script>',
      "javascript:alert(1)",
    ]
  ) {
    assert.equal(traceOf(bad, "http://jaeger/{trace_id}"), undefined, String(bad));
  }
});

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const NDJSON = { accept: "application/x-ndjson" };

/** The console's handler with `find` behind `/api/find`. */
function consoleWith(
  find: Parameters<typeof findRoutes>[0],
  shutdown?: AbortSignal,
): (request: Request) => Promise<Response> {
  return createConsoleApp({
    poller: createPoller({
      // Never started: the find route does not need it.
      sample: () => Promise.reject(new Error("not sampled")),
      intervalMs: 1000,
      historySize: 10,
      logger: silentLogger,
    }),
    staticFiles: new Map(),
    sessions: createSessions(),
    host: "127.0.0.1",
    logger: silentLogger,
    routes: findRoutes(find, "t"),
    ...(shutdown ? { shutdown } : {}),
  });
}

/** A topic of three partitions, one record each, whose reads wait until `release()`. */
function heldKafka() {
  const kafka = fakeKafkaSource(["t", "t.dlq"], 3);
  for (const p of [0, 1, 2]) {
    kafka.append("t", p, {
      key: new TextEncoder().encode(`k${p}`),
      headers: [["traceparent", new TextEncoder().encode(`00-${TRACE}-00f067aa0ba902b7-01`)]],
    });
  }
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held = {
    ...kafka,
    read: async (...args: Parameters<typeof kafka.read>) => {
      const answer = kafka.read(...args);
      await gate;
      return answer;
    },
  };
  return { kafka, held, release };
}

const deps = (kafka: ReturnType<typeof fakeKafkaSource>) => ({
  kafka,
  topic: "t",
  dlqTopic: "t.dlq",
  groupId: "g",
  maxRecords: 100,
  maxMs: 60_000,
  now: Date.now,
});

async function lines(res: Response): Promise<Record<string, unknown>[]> {
  return (await res.text()).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

Deno.test("GET /api/find streams its progress as JSON lines, then the same answer as without", async () => {
  const { kafka } = heldKafka();
  const handler = consoleWith((q, o) => findEvent(q, deps(kafka), o));
  const url = `http://127.0.0.1:8070/api/find?trace_id=${TRACE}`;
  const streamed = await handler(new Request(url, { headers: NDJSON }));
  assert.equal(streamed.status, 200);
  assert.equal(streamed.headers.get("content-type"), "application/x-ndjson; charset=utf-8");
  const got = await lines(streamed);
  const progress = got.filter((l) => "progress" in l).map((l) =>
    l.progress as {
      phase: string;
      records: number;
      maxRecords: number;
      partitions: { partition: number; reached: string; end: string }[];
    }
  );
  assert.deepEqual(
    progress.map((p) => [p.phase, p.records, p.partitions.map((q) => q.reached).join()]),
    [["topic", 0, "1,1,1"], ["topic", 1, "0,1,1"], ["topic", 2, "0,0,1"], ["topic", 3, "0,0,0"]],
  );
  assert.equal(progress[0]!.maxRecords, 100);
  assert.deepEqual(Object.keys(got.at(-1)!), ["result"], "the answer comes last");
  const plain = await handler(new Request(url));
  assert.equal(plain.headers.get("content-type"), "application/json");
  assert.deepEqual(got.at(-1)!.result, await plain.json());
});

Deno.test("a streamed search stops reading when the page cancels its fetch", async () => {
  const { kafka, held, release } = heldKafka();
  let settled: Promise<string> | undefined;
  const handler = consoleWith((q, o) => {
    const search = findEvent(q, deps(held), o);
    settled = search.then(() => "answered", (e) => (e as Error).name);
    return search;
  });
  const res = await handler(
    new Request(`http://127.0.0.1:8070/api/find?trace_id=${TRACE}`, { headers: NDJSON }),
  );
  const reader = res.body!.getReader();
  const first = JSON.parse(new TextDecoder().decode((await reader.read()).value));
  assert.equal(first.progress.records, 0, "the page hears of the search before its first read");
  // What the browser does when the page's fetch is aborted: the body is cancelled.
  await reader.cancel();
  release();
  assert.equal(await settled, "AbortError");
  assert.deepEqual(kafka.reads, ["t/0@0"], "the read in flight, and none after it");
});

Deno.test("a search stops when its request is aborted or the console stops, and frees its place", async () => {
  const started: AbortSignal[] = [];
  const shutdown = new AbortController();
  // Searches that run until they are stopped; the "answer" trace answers at once.
  const find = (q: FindQuery, o: FindOptions) => {
    if (q.id !== TRACE) {
      return Promise.resolve({
        found: [],
        topicScan: { records: 0, stoppedBy: "done" as const, partitions: [] },
        deadLetterScan: null,
      });
    }
    started.push(o.signal!);
    return new Promise<never>((_, reject) =>
      o.signal!.addEventListener("abort", () => reject(o.signal!.reason), { once: true })
    );
  };
  const handler = consoleWith(find, shutdown.signal);
  const url = (id = TRACE) => `http://127.0.0.1:8070/api/find?trace_id=${id}`;
  const closed = new AbortController();
  const plain = handler(new Request(url(), { signal: closed.signal }));
  const streamed = await handler(new Request(url(), { headers: NDJSON }));
  const other = "0".repeat(31) + "1";
  assert.equal((await handler(new Request(url(other)))).status, 429, "two run at most");

  closed.abort();
  assert.equal((await plain).status, 499, "the closed request's search ends");
  assert.equal(started[0]!.aborted, true);
  assert.equal((await handler(new Request(url(other)))).status, 200, "its place is free");

  shutdown.abort();
  assert.deepEqual(await lines(streamed), [], "the stream ends without an answer");
  assert.equal(started[1]!.aborted, true);
});
