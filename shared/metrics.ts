/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
 * text exposition format (version 0.0.4) for `GET /metrics`.
 *
 * Updates are plain map look-ups and additions, cheap enough for every request or record;
 * `bind(labels)` resolves a series once, so that a hot path updates it without building a
 * labels object and a key each time.
 *
 * @example
 * ```ts
 * const metrics = createRegistry();
 * const requests = metrics.counter("http_requests_total", "Requests", ["route", "status"]);
 * requests.inc({ route: "/v1/users", status: "202" });
 * const body = metrics.render();
 * ```
 */

/** Label values by label name. */
export type Labels = Record<string, string>;

/** A value that only goes up. */
export interface Counter {
  inc(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
  /** The series of `labels`, resolved once: its updates allocate nothing. */
  bind(labels?: Labels): BoundCounter;
}

/** One series of a counter. */
export interface BoundCounter {
  inc(by?: number): void;
}

/** A value that goes up and down, or is computed when scraped. */
export interface Gauge {
  set(value: number, labels?: Labels): void;
  inc(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
}

/** Observations counted into cumulative buckets. */
export interface Histogram {
  observe(value: number, labels?: Labels): void;
  /** Count and sum of the observations with these labels. */
  get(labels?: Labels): { count: number; sum: number };
  /** The series of `labels`, resolved once: its observations allocate nothing. */
  bind(labels?: Labels): BoundHistogram;
}

/** One series of a histogram. */
export interface BoundHistogram {
  observe(value: number): void;
}

/** The set of metrics a process exposes. */
export interface Registry {
  counter(name: string, help: string, labelNames?: string[]): Counter;
  gauge(name: string, help: string, labelNames?: string[], collect?: () => void): Gauge;
  histogram(name: string, help: string, buckets: number[], labelNames?: string[]): Histogram;
  /** The exposition text of every metric. */
  render(): string;
}

/** The `Content-Type` of `render()`'s output. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Latency buckets in seconds, from 0.5 ms to 10 s. */
export const LATENCY_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** Size buckets (records per batch). */
export const SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

interface Series {
  labels: Labels;
  value: number;
  buckets?: number[];
  sum?: number;
}

interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  labelNames: string[];
  series: Map<string, Series>;
  bounds?: number[];
  collect?: () => void;
}

/** Creates an empty registry. */
export function createRegistry(): Registry {
  const metrics: Metric[] = [];
  const names = new Set<string>();

  const add = (m: Omit<Metric, "series">): Metric => {
    if (names.has(m.name)) throw new Error(`metric ${m.name} is registered twice`);
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(m.name)) throw new Error(`bad metric name ${m.name}`);
    names.add(m.name);
    const metric = { ...m, series: new Map<string, Series>() };
    metrics.push(metric);
    // A metric without labels has one series: export it (as 0) from the start, so that a
    // scrape before its first change sees it rather than a gap.
    if (m.labelNames.length === 0) series(metric);
    return metric;
  };

  const series = (m: Metric, labels: Labels = {}): Series => {
    const key = m.labelNames.length === 0
      ? ""
      : m.labelNames.map((n) => labels[n] ?? "").join("\u0000");
    let s = m.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, value: 0 };
      if (m.bounds) {
        s.buckets = new Array(m.bounds.length).fill(0);
        s.sum = 0;
      }
      m.series.set(key, s);
    }
    return s;
  };

  return {
    counter(name, help, labelNames = []) {
      const m = add({ name, help, type: "counter", labelNames });
      return {
        inc(labels, by = 1) {
          if (by < 0) throw new Error(`counter ${name} cannot go down`);
          series(m, labels).value += by;
        },
        get: (labels) => series(m, labels).value,
        bind(labels) {
          const s = series(m, labels);
          return {
            inc(by = 1) {
              if (by < 0) throw new Error(`counter ${name} cannot go down`);
              s.value += by;
            },
          };
        },
      };
    },
    gauge(name, help, labelNames = [], collect) {
      const m = add({ name, help, type: "gauge", labelNames, collect });
      return {
        set(value, labels) {
          series(m, labels).value = value;
        },
        inc(labels, by = 1) {
          series(m, labels).value += by;
        },
        get: (labels) => series(m, labels).value,
      };
    },
    histogram(name, help, buckets, labelNames = []) {
      const bounds = [...buckets].sort((a, b) => a - b);
      const m = add({ name, help, type: "histogram", labelNames, bounds });
      const observeInto = (s: Series, value: number) => {
        s.value += 1;
        s.sum! += value;
        // Non-cumulative counts here; render() accumulates.
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i++;
        if (i < bounds.length) s.buckets![i]! += 1;
      };
      return {
        observe(value, labels) {
          observeInto(series(m, labels), value);
        },
        bind(labels) {
          const s = series(m, labels);
          return { observe: (value) => observeInto(s, value) };
        },
        get: (labels) => {
          const s = series(m, labels);
          return { count: s.value, sum: s.sum ?? 0 };
        },
      };
    },
    render() {
      const out: string[] = [];
      for (const m of metrics) {
        m.collect?.();
        out.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`);
        for (const s of m.series.values()) {
          if (m.type !== "histogram") {
            out.push(`${m.name}${fmtLabels(s.labels)} ${fmtNumber(s.value)}`);
            continue;
          }
          let cumulative = 0;
          m.bounds!.forEach((bound, i) => {
            cumulative += s.buckets![i]!;
            out.push(
              `${m.name}_bucket${fmtLabels({ ...s.labels, le: fmtNumber(bound) })} ${cumulative}`,
            );
          });
          out.push(`${m.name}_bucket${fmtLabels({ ...s.labels, le: "+Inf" })} ${s.value}`);
          out.push(`${m.name}_sum${fmtLabels(s.labels)} ${fmtNumber(s.sum!)}`);
          out.push(`${m.name}_count${fmtLabels(s.labels)} ${s.value}`);
        }
      }
      return out.join("\n") + "\n";
    },
  };
}

function fmtLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(",")}}`;
}

function fmtNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

function escapeValue(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function escapeHelp(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}
