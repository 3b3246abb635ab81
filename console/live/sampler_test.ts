import assert from "node:assert/strict";
import { fakeKafkaSource } from "../../testing/fakes.ts";
import type { InstanceProbe, InstanceState } from "../sources/instance_probe.ts";
import { parseMetricsText } from "../sources/metrics_text.ts";
import { createSampler } from "./sampler.ts";

/** A probe answering each URL with the metrics text set for it. */
function scriptedProbe(texts: Map<string, string>): InstanceProbe {
  return (kind, url): Promise<InstanceState> => {
    const text = texts.get(url);
    return Promise.resolve({
      kind,
      url,
      up: text !== undefined,
      ready: text !== undefined,
      ...(text === undefined ? { reason: "no answer" } : {}),
      samples: parseMetricsText(text ?? ""),
    });
  };
}

const worker = (
  rows: number,
  dead: number,
  retries: number,
  buckets: [string, number][],
  stale = 0,
) =>
  [
    `worker_rows_upserted_total ${rows}`,
    `worker_records_superseded_total 1`,
    `worker_rows_stale_total ${stale}`,
    `worker_dead_letters_total{stage="schema"} ${dead}`,
    `worker_warehouse_errors_total{kind="retry"} ${retries}`,
    `worker_warehouse_errors_total{kind="reject"} 1`,
    ...buckets.map(([le, n]) => `worker_batch_duration_seconds_bucket{le="${le}"} ${n}`),
  ].join("\n");

Deno.test("the sampler turns counters into per-second rates, per stage, across instances", async () => {
  const kafka = fakeKafkaSource(["t"], 1);
  const texts = new Map([
    ["http://i1", 'ingest_events_accepted_total{source="webhook"} 100'],
    ["http://i2", 'ingest_events_accepted_total{source="randomuser"} 10'],
    ["http://w1", worker(50, 2, 0, [["0.01", 0], ["0.1", 0], ["+Inf", 0]])],
  ]);
  let now = 1_000_000;
  const sampler = createSampler({
    probe: scriptedProbe(texts),
    kafka,
    instances: [
      { kind: "ingest", url: "http://i1" },
      { kind: "ingest", url: "http://i2" },
      { kind: "worker", url: "http://w1" },
    ],
    topic: "t",
    groupId: "g",
    now: () => now,
  });
  const first = await sampler.sample();
  assert.deepEqual(first.rates, {
    accepted: 0,
    produced: 0,
    rows: 0,
    superseded: 0,
    deadLettered: 0,
  });

  now += 2_000;
  texts.set("http://i1", 'ingest_events_accepted_total{source="webhook"} 140');
  texts.set("http://i2", 'ingest_events_accepted_total{source="randomuser"} 14');
  // 40 more rows written, 10 of them stale (the stored row was newer): 15 rows/s and 5
  // superseded/s.
  texts.set("http://w1", worker(90, 6, 2, [["0.01", 90], ["0.1", 100], ["+Inf", 100]], 10));
  for (let i = 0; i < 8; i++) kafka.append("t", 0, { timestamp: now - 500 });
  const second = await sampler.sample();
  assert.deepEqual(second.rates, {
    accepted: 22,
    produced: 4,
    rows: 15,
    superseded: 5,
    deadLettered: 2,
  });
  assert.deepEqual(second.warehouse, { retries: 1, errors: 0, retriesTotal: 2, errorsTotal: 0 });
  assert.ok(Math.abs(second.flush.p50! - 0.01 * (50 / 90)) < 1e-9, `p50 ${second.flush.p50}`);
  assert.ok(Math.abs(second.flush.p99! - 0.091) < 1e-9, `p99 ${second.flush.p99}`);
  assert.deepEqual(second.lag, [{
    partition: 0,
    end: "8",
    committed: "0",
    records: 8,
    seconds: 0.5,
  }]);
  assert.deepEqual(second.instances.map((i) => [i.kind, i.url, i.ready]), [
    ["ingest", "http://i1", true],
    ["ingest", "http://i2", true],
    ["worker", "http://w1", true],
  ]);

  now += 1_000;
  texts.set("http://i1", 'ingest_events_accepted_total{source="webhook"} 5'); // restarted
  texts.delete("http://i2"); // gone
  const third = await sampler.sample();
  assert.equal(third.rates.accepted, 5, "a restarted instance counts from 0");
  assert.deepEqual(third.instances[1], {
    kind: "ingest",
    url: "http://i2",
    up: false,
    ready: false,
    reason: "no answer",
  });
});

Deno.test("the sampler reports Kafka's problem and keeps the instances' figures", async () => {
  const kafka = fakeKafkaSource(["t"], 1);
  kafka.fail = new Error("Cannot connect to KAFKA_BROKERS=127.0.0.1:9");
  const sampler = createSampler({
    probe: scriptedProbe(new Map()),
    kafka,
    instances: [],
    topic: "t",
    groupId: "g",
    now: () => 0,
  });
  const s = await sampler.sample();
  assert.deepEqual(s.kafka, { ok: false, problem: "Cannot connect to KAFKA_BROKERS=127.0.0.1:9" });
  assert.deepEqual(s.lag, []);
});
