import assert from "node:assert/strict";
import { readPullRuns } from "./pull_runs.ts";

Deno.test("readPullRuns() merges the ingests' runs newest first and keeps only known, bounded fields", async () => {
  const answers: Record<string, Response | Error> = {
    "http://a/v1/pull/runs": Response.json({
      runs: [
        {
          trigger: "schedule",
          started_at: "2026-01-01T00:02:00.000Z",
          finished_at: "2026-01-01T00:02:01.000Z",
          outcome: "ok",
          fetched: 10,
          produced: 10,
          rejected: 0,
        },
        {
          trigger: "manual",
          started_at: "2026-01-01T00:00:00.000Z",
          finished_at: "x",
          outcome: "failed",
          fetched: 0,
          produced: 0,
          rejected: 0,
          error: "<b>" + "x".repeat(5_000),
          password: "leak",
        },
      ],
    }),
    "http://b/v1/pull/runs": Response.json({
      runs: [{
        trigger: "schedule",
        started_at: "2026-01-01T00:01:00.000Z",
        outcome: "partial",
        fetched: "9",
      }],
    }),
    "http://c/v1/pull/runs": new TypeError("connection refused"),
  };
  const result = await readPullRuns(["http://a", "http://b", "http://c"], {
    timeoutMs: 1_000,
    fetch: (input) => {
      const a = answers[String(input)]!;
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
  });
  assert.deepEqual(result.runs.map((r) => [r.instance, r.started_at, r.outcome]), [
    ["http://a", "2026-01-01T00:02:00.000Z", "ok"],
    ["http://b", "2026-01-01T00:01:00.000Z", "partial"],
    ["http://a", "2026-01-01T00:00:00.000Z", "failed"],
  ]);
  assert.equal(result.runs[1]!.fetched, 0, "a number only");
  assert.equal(result.runs[2]!.error!.length, 1_000, "cut");
  assert.equal("password" in result.runs[2]!, false, "unknown fields are dropped");
  assert.deepEqual(result.instances, [
    { url: "http://a", ok: true },
    { url: "http://b", ok: true },
    { url: "http://c", ok: false, problem: "no answer: connection refused" },
  ]);
});
