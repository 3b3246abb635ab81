import assert from "node:assert/strict";
import { cpuOverhead } from "./cpu_overhead.ts";

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} is not ${b}`);

Deno.test("cpuOverhead() weighs each window by its length and gives the difference in % of one core", () => {
  const [broker] = cpuOverhead([
    { mode: "off", seconds: 30, cpuSeconds: { broker: 3 } },
    { mode: "on", seconds: 20, cpuSeconds: { broker: 2.4 } },
    { mode: "off", seconds: 10, cpuSeconds: { broker: 1.4 } },
    { mode: "on", seconds: 20, cpuSeconds: { broker: 2.2 } },
  ]);
  assert.equal(broker!.process, "broker");
  close(broker!.offCores, 4.4 / 40, "off");
  close(broker!.onCores, 4.6 / 40, "on");
  close(broker!.diffCores, 0.2 / 40, "difference");
  close(broker!.percentOfCore, 0.5, "percent of a core");
  close(broker!.spreadOff, 0.14 - 0.1, "spread off");
  close(broker!.spreadOn, 0.12 - 0.11, "spread on");
  assert.deepEqual(broker!.windows, { off: 2, on: 2 });
});

Deno.test("cpuOverhead() leaves out a window where a process had no value, for that process only", () => {
  const rows = cpuOverhead([
    { mode: "off", seconds: 10, cpuSeconds: { ingest: 1, worker: 2 } },
    { mode: "on", seconds: 10, cpuSeconds: { ingest: Number.NaN, worker: 2.5 } },
    { mode: "on", seconds: 10, cpuSeconds: { ingest: 1.5, worker: 2.5 } },
  ]);
  assert.deepEqual(rows.map((r) => [r.process, r.windows]), [
    ["ingest", { off: 1, on: 1 }],
    ["worker", { off: 1, on: 2 }],
  ]);
  close(rows[0]!.diffCores, 0.05, "ingest");
  close(rows[1]!.diffCores, 0.05, "worker");
  assert.ok(Number.isNaN(rows[0]!.spreadOff), "one window has no spread");
});

Deno.test("cpuOverhead() refuses a window of no length", () => {
  assert.throws(
    () => cpuOverhead([{ mode: "off", seconds: 0, cpuSeconds: { a: 1 } }]),
    { message: "Cannot use a window of 0 s" },
  );
});
