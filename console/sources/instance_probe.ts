/**
 * One look at one program instance: its `/metrics` samples and its `/readyz` state and reason,
 * each with a deadline, so that an instance that hangs costs one timeout, not a stuck poller.
 */
import { parseMetricsText, type Sample } from "./metrics_text.ts";

/** Which program an instance runs. */
export type InstanceKind = "ingest" | "worker";

/** What one probe saw. */
export interface InstanceState {
  kind: InstanceKind;
  /** The base URL without user name or password (what the page shows). */
  url: string;
  /** `/metrics` answered. */
  up: boolean;
  /** `/readyz` answered 2xx. */
  ready: boolean;
  /** Why it is not up or not ready (cut to 300 characters); absent when ready. */
  reason?: string;
  samples: Sample[];
}

/** Probes instances. */
export type InstanceProbe = (kind: InstanceKind, baseUrl: string) => Promise<InstanceState>;

/** Largest `/metrics` or `/readyz` body read (bytes). */
const MAX_BODY = 2 * 1024 * 1024;

/** The URL as shown: no user name or password. */
export function displayUrl(baseUrl: string): string {
  try {
    const u = new URL(baseUrl);
    u.username = "";
    u.password = "";
    return u.href.replace(/\/$/, "");
  } catch {
    return "(invalid URL)";
  }
}

/** Creates a probe over `fetch` (injected for tests). */
export function createInstanceProbe(
  opts: { timeoutMs: number; fetch?: typeof fetch },
): InstanceProbe {
  const fetchFn = opts.fetch ?? fetch;
  const get = async (url: string): Promise<{ status: number; text: string }> => {
    const signal = AbortSignal.timeout(opts.timeoutMs);
    const res = await fetchFn(url, { signal, redirect: "manual" });
    const text = await boundedText(res, MAX_BODY);
    return { status: res.status, text };
  };
  return async (kind, baseUrl) => {
    const state: InstanceState = {
      kind,
      url: displayUrl(baseUrl),
      up: false,
      ready: false,
      samples: [],
    };
    const [metrics, ready] = await Promise.allSettled([
      get(`${baseUrl}/metrics`),
      get(`${baseUrl}/readyz`),
    ]);
    if (metrics.status === "fulfilled" && metrics.value.status === 200) {
      state.up = true;
      state.samples = parseMetricsText(metrics.value.text);
    }
    if (ready.status === "fulfilled") {
      state.ready = ready.value.status >= 200 && ready.value.status < 300;
      if (!state.ready) state.reason = readyReason(ready.value.status, ready.value.text);
    } else {
      state.reason = cut(`no answer: ${(ready.reason as Error)?.message ?? ready.reason}`);
    }
    return state;
  };
}

/** The reason a `/readyz` body gives (`problem`, a stalled or full buffer), or its status. */
export function readyReason(status: number, body: string): string {
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    if (typeof json.problem === "string") return cut(json.problem);
    if (json.stalled === true) return "the producer is stalled";
    if (json.kafka === false) return "Kafka is not reachable";
    const buffer = json.buffer as { bufferedBytes?: number; maxBufferBytes?: number } | undefined;
    if (buffer && (buffer.bufferedBytes ?? 0) >= (buffer.maxBufferBytes ?? Infinity)) {
      return "the send buffer is full";
    }
  } catch { /* not JSON */ }
  return `not ready (HTTP ${status})`;
}

function cut(s: string): string {
  return s.length <= 300 ? s : `${s.slice(0, 299)}…`;
}

async function boundedText(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, max));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, all.length - at);
    all.set(part, at);
    at += part.length;
  }
  return new TextDecoder().decode(all);
}
