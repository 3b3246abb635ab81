/**
 * Prometheus text (exposition format 0.0.4), parsed into samples: what the programs' `/metrics`
 * answer. Only what the console reads is supported: `name{label="value",…} number` lines;
 * comments, timestamps and anything malformed are skipped, and the input is bounded.
 */

/** One sample: a metric name, its labels and its value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Most lines read from one answer (the programs expose a few hundred). */
const MAX_LINES = 20_000;

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

/** The samples of `text`. Never throws: a line it cannot read is skipped. */
export function parseMetricsText(text: string): Sample[] {
  const out: Sample[] = [];
  let lines = 0;
  for (const raw of text.split("\n")) {
    if (++lines > MAX_LINES) break;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = parseValue(m[3]!);
    if (value === undefined) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

function parseValue(text: string): number | undefined {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

/** The sum of the samples named `name` whose labels include `match`. */
export function sumOf(
  samples: readonly Sample[],
  name: string,
  match: Record<string, string> = {},
): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}
