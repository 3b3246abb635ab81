/**
 * The live view: rates, two uPlot charts (rates; lag in records and seconds) over the kept
 * history, the lag table, warehouse figures and the instances, from the event stream.
 */
import { el, fmt, fmtSeconds, replaceChildren, setText } from "./dom.js";

const HISTORY_MS = 15 * 60 * 1000;
const RATE_SERIES = [
  ["accepted", "accepted"],
  ["produced", "produced"],
  ["rows", "rows written"],
  ["superseded", "superseded"],
  ["deadLettered", "dead-lettered"],
];
const COLORS = ["#2b6cb0", "#805ad5", "#2f855a", "#b7791f", "#c53030"];

/** Creates the view; `hello` and `snapshot` feed it. */
export function createLiveView() {
  const points = [];
  let ratesChart;
  let lagChart;

  const charts = () => {
    const uPlot = globalThis.uPlot;
    if (!uPlot || ratesChart) return;
    const width = Math.max(320, Math.min(1000, document.body.clientWidth - 40));
    ratesChart = new uPlot(
      {
        title: "per second",
        width,
        height: 220,
        series: [{}, ...RATE_SERIES.map(([, label], i) => ({ label, stroke: COLORS[i] }))],
        axes: [{}, { label: "/s" }],
      },
      emptyData(RATE_SERIES.length),
      document.getElementById("chart-rates"),
    );
    lagChart = new uPlot(
      {
        title: "consumer lag",
        width,
        height: 200,
        series: [
          {},
          { label: "records", stroke: "#2b6cb0", scale: "records" },
          { label: "seconds (oldest)", stroke: "#c53030", scale: "s" },
        ],
        axes: [{}, { scale: "records", label: "records" }, { scale: "s", side: 1, label: "s" }],
      },
      emptyData(2),
      document.getElementById("chart-lag"),
    );
  };

  const redraw = () => {
    charts();
    if (!ratesChart) return;
    const t = points.map((p) => p.time / 1000);
    ratesChart.setData([t, ...RATE_SERIES.map(([k]) => points.map((p) => p[k]))]);
    lagChart.setData([t, points.map((p) => p.lagRecords), points.map((p) => p.lagSeconds)]);
  };

  const addPoint = (p) => {
    points.push(p);
    while (points.length > 0 && points[0].time < p.time - HISTORY_MS) points.shift();
  };

  const render = (s) => {
    setText("live-time", new Date(s.time).toISOString().slice(11, 19) + " UTC");
    setText("rate-accepted", fmt(s.rates.accepted));
    setText("rate-produced", fmt(s.rates.produced));
    setText("rate-rows", fmt(s.rates.rows));
    setText("rate-superseded", fmt(s.rates.superseded));
    setText("rate-dead-lettered", fmt(s.rates.deadLettered));
    const problem = document.getElementById("kafka-problem");
    problem.hidden = s.kafka.ok;
    problem.textContent = s.kafka.ok ? "" : `Kafka: ${s.kafka.problem ?? "no answer"}`;
    replaceChildren(
      document.getElementById("lag-rows"),
      s.lag.map((p) =>
        el(
          "tr",
          { "data-testid": "lag-row", "data-partition": p.partition },
          el("td", { class: "num" }, String(p.partition)),
          el("td", { class: "num" }, p.committed),
          el("td", { class: "num" }, p.end),
          el("td", { class: "num", "data-testid": "lag-records" }, String(p.records)),
          el(
            "td",
            { class: "num", "data-testid": "lag-seconds", "data-seconds": p.seconds.toFixed(3) },
            fmtSeconds(p.seconds),
          ),
        )
      ),
    );
    setText("flush-p50", fmtSeconds(s.flush.p50));
    setText("flush-p99", fmtSeconds(s.flush.p99));
    setText("warehouse-retries", `${fmt(s.warehouse.retries)} (${s.warehouse.retriesTotal})`);
    setText("warehouse-errors", `${fmt(s.warehouse.errors)} (${s.warehouse.errorsTotal})`);
    replaceChildren(
      document.getElementById("instance-rows"),
      s.instances.map((i) =>
        el(
          "tr",
          { "data-testid": "instance", "data-kind": i.kind, "data-ready": String(i.ready) },
          el("td", {}, i.kind),
          el("td", { class: "untrusted" }, i.url),
          el("td", {}, i.up ? "up" : "down"),
          el("td", { "data-testid": "instance-ready" }, i.ready ? "ready" : "not ready"),
          el("td", { "data-testid": "instance-reason" }, i.reason ?? ""),
        )
      ),
    );
  };

  return {
    hello({ history, latest }) {
      points.length = 0;
      for (const p of history) addPoint(p);
      if (latest) render(latest);
      redraw();
    },
    snapshot(s) {
      const lagRecords = s.lag.reduce((n, p) => n + p.records, 0);
      const lagSeconds = s.lag.reduce((n, p) => Math.max(n, p.seconds), 0);
      addPoint({ time: s.time, ...s.rates, lagRecords, lagSeconds });
      render(s);
      redraw();
    },
  };
}

function emptyData(n) {
  return [[], ...Array.from({ length: n }, () => [])];
}
