import assert from "node:assert/strict";
import { createRegistry } from "./metrics.ts";

Deno.test("registry renders counters, gauges and cumulative histogram buckets", () => {
  const r = createRegistry();
  const c = r.counter("requests_total", "Requests", ["status"]);
  c.inc({ status: "202" });
  c.inc({ status: "202" }, 2);
  const g = r.gauge("buffer_fill", "Fill");
  g.set(0.5);
  const h = r.histogram("latency_seconds", "Latency", [0.01, 0.1]);
  h.observe(0.005);
  h.observe(0.05);
  h.observe(5);
  assert.equal(
    r.render(),
    [
      "# HELP requests_total Requests",
      "# TYPE requests_total counter",
      'requests_total{status="202"} 3',
      "# HELP buffer_fill Fill",
      "# TYPE buffer_fill gauge",
      "buffer_fill 0.5",
      "# HELP latency_seconds Latency",
      "# TYPE latency_seconds histogram",
      'latency_seconds_bucket{le="0.01"} 1',
      'latency_seconds_bucket{le="0.1"} 2',
      'latency_seconds_bucket{le="+Inf"} 3',
      "latency_seconds_sum 5.055",
      "latency_seconds_count 3",
      "",
    ].join("\n"),
  );
});

Deno.test("registry escapes label values and refuses duplicate or invalid names", () => {
  const r = createRegistry();
  r.counter("x_total", "X", ["reason"]).inc({ reason: 'bad "quote"\n' });
  assert.match(r.render(), /x_total\{reason="bad \\"quote\\"\\n"\} 1/);
  assert.throws(() => r.counter("x_total", "again"), /registered twice/);
  assert.throws(() => r.counter("bad-name", "X"), /bad metric name/);
  assert.throws(() => r.counter("y_total", "Y").inc({}, -1), /cannot go down/);
});

Deno.test("a gauge's collect callback runs at render time", () => {
  const r = createRegistry();
  let n = 0;
  const g = r.gauge("lag", "Lag", [], () => g.set(++n));
  r.render();
  assert.match(r.render(), /^lag 2$/m);
});

Deno.test("a metric without labels is exported as 0 before its first change", () => {
  const registry = createRegistry();
  registry.gauge("paused_partitions", "Partitions waiting");
  registry.counter("rows_total", "Rows");
  registry.histogram("flush_seconds", "Flushes", [0.1, 1]);
  registry.gauge("lag", "Lag", ["partition"]);
  const text = registry.render();
  assert.match(text, /^paused_partitions 0$/m);
  assert.match(text, /^rows_total 0$/m);
  assert.match(text, /^flush_seconds_count 0$/m);
  assert.match(text, /^flush_seconds_bucket\{le="\+Inf"\} 0$/m);
  assert.doesNotMatch(text, /^lag[ {]/m, "a labelled metric has no series until it has labels");
});

Deno.test("bind() updates the same series as the labelled calls", () => {
  const registry = createRegistry();
  const requests = registry.counter("req_total", "Requests", ["route"]);
  const seconds = registry.histogram("req_seconds", "Time", [0.1, 1], ["route"]);
  const users = requests.bind({ route: "/v1/users" });
  users.inc();
  users.inc(2);
  requests.inc({ route: "/v1/users" });
  assert.equal(requests.get({ route: "/v1/users" }), 4);
  const timing = seconds.bind({ route: "/v1/users" });
  timing.observe(0.05);
  seconds.observe(0.5, { route: "/v1/users" });
  assert.deepEqual(seconds.get({ route: "/v1/users" }), { count: 2, sum: 0.55 });
  assert.throws(() => users.inc(-1), /cannot go down/);
  assert.match(registry.render(), /req_seconds_bucket\{route="\/v1\/users",le="0\.1"\} 1\n/);
});
