import assert from "node:assert/strict";
import { rateBound, type RateSample } from "./rate_bound.ts";

const sample = (over: Partial<RateSample>): RateSample => ({
  eventsPerSecond: 5_000,
  offeredEventsPerSecond: 0,
  connections: 64,
  batch: 1,
  p50Ms: 10,
  serverMainCores: 0.5,
  generatorMainCores: 0.5,
  machineCores: 1.2,
  cpus: 2,
  ...over,
});

Deno.test("rateBound() names the server's CPU when its main thread is 80 % busy or more", () => {
  assert.deepEqual(rateBound(sample({ serverMainCores: 0.82, p50Ms: 6.8 })), {
    kind: "server-cpu",
    ackCapEventsPerSecond: 9412,
    label: "CPU-bound (server main thread 82 %)",
  });
});

Deno.test("rateBound() names the generator when it, not the server, is saturated", () => {
  const bound = rateBound(sample({ generatorMainCores: 0.95, machineCores: 1.9 }));
  assert.equal(bound.kind, "generator-cpu");
  assert.equal(bound.label, "generator-bound (its main thread 95 %)");
});

Deno.test("rateBound() names the machine when no thread is saturated but the cores are", () => {
  const bound = rateBound(sample({ machineCores: 1.85 }));
  assert.equal(bound.kind, "machine");
  assert.equal(bound.label, "machine-bound (1.85 of 2 cores busy)");
});

Deno.test("rateBound() falls back to the answers' latency: connections × batch / p50", () => {
  assert.deepEqual(rateBound(sample({ connections: 16, batch: 100, p50Ms: 32 })), {
    kind: "latency",
    ackCapEventsPerSecond: 50_000,
    label: "latency-bound (16 conn × 100 / p50 32 ms ≈ 50000 ev/s)",
  });
});

Deno.test("rateBound() says a fixed-rate run that reached its rate was bound by it", () => {
  const bound = rateBound(
    sample({ offeredEventsPerSecond: 5_000, eventsPerSecond: 4_990, serverMainCores: 0.9 }),
  );
  assert.equal(bound.kind, "offered");
  // Short of the offered rate, the saturated thread is the bound again.
  const short = rateBound(
    sample({ offeredEventsPerSecond: 5_000, eventsPerSecond: 4_000, serverMainCores: 0.9 }),
  );
  assert.equal(short.kind, "server-cpu");
});

Deno.test("rateBound() skips what was not measured (NaN) and a missing latency", () => {
  const bound = rateBound(
    sample({ generatorMainCores: NaN, machineCores: NaN, p50Ms: NaN, connections: 1 }),
  );
  assert.equal(bound.kind, "latency");
  assert.ok(Number.isNaN(bound.ackCapEventsPerSecond));
  assert.equal(bound.label, "latency-bound (no latency measured)");
});
