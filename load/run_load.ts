/**
 * The load generator's engine: POSTs signed synthetic users to the webhook from `concurrency`
 * workers, at a target event rate or as fast as the server answers, for at most `count`
 * events and `durationSeconds`, and measures each request's latency.
 */
import { SCHEMA_VERSION, type SchemaVersion } from "../shared/event.ts";
import { signWebhook } from "../ingest/http/webhook_signature.ts";
import { HttpConnection } from "./http_connection.ts";
import { createRng } from "../testing/rng.ts";
import { syntheticUser } from "./synthetic_user.ts";

/** What `runLoad` does. */
export interface LoadOptions {
  /** The webhook URL, e.g. `http://127.0.0.1:8080/v1/users`. */
  url: string;
  /** `whsec_…` secret to sign with; unsigned requests when absent. */
  secret?: string;
  /** Events in total (the run stops earlier at `durationSeconds`). */
  count: number;
  /** Upper bound on the run's length. */
  durationSeconds: number;
  /** Target events per second; 0 for as fast as the server answers. */
  rate: number;
  /** Users per request: 1 sends a JSON object, more a JSON array (or NDJSON). */
  batch: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Send batches as NDJSON instead of a JSON array. */
  ndjson?: boolean;
  /** Seconds at the start whose requests are not measured. */
  warmupSeconds?: number;
  /** Seed for the synthetic users. */
  seed?: number;
  /** The schema version of the users sent (default the newest, `SCHEMA_VERSION`). */
  schemaVersion?: SchemaVersion;
}

/** What a run measured (after warm-up). */
export interface LoadSummary {
  requests: number;
  events: number;
  /** Events answered 202. */
  accepted: number;
  seconds: number;
  eventsPerSecond: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Answers by status (`error` for a failed connection). */
  statuses: Record<string, number>;
  /** Mean request body size in bytes. */
  bodyBytes: number;
}

/**
 * Runs the load and returns what it measured. Plain `http:` URLs go through one keep-alive
 * `HttpConnection` per worker (cheaper than `fetch`); `deps.fetch` forces `fetch`.
 */
export async function runLoad(
  opts: LoadOptions,
  deps: { fetch?: typeof fetch } = {},
): Promise<LoadSummary> {
  const url = new URL(opts.url);
  const useFetch = deps.fetch !== undefined || url.protocol !== "http:";
  const doFetch = deps.fetch ?? fetch;
  const path = url.pathname + url.search;
  const random = createRng(opts.seed ?? 1).next;
  const encoder = new TextEncoder();
  const contentType = opts.batch > 1 && opts.ndjson ? "application/x-ndjson" : "application/json";
  const totalRequests = Math.ceil(opts.count / opts.batch);
  const latencies = new Float64Array(totalRequests);
  const statuses: Record<string, number> = {};
  let measured = 0;
  let measuredEvents = 0;
  let accepted = 0;
  let bodyBytes = 0;
  let next = 0;
  const started = performance.now();
  const warmupEnd = started + (opts.warmupSeconds ?? 0) * 1000;
  const end = started + opts.durationSeconds * 1000;
  let measureStart = Number.NaN;
  let lastFinish = started;
  const secondsPerRequest = opts.rate > 0 ? opts.batch / opts.rate : 0;

  const version = opts.schemaVersion ?? SCHEMA_VERSION;
  const body = (): string => {
    if (opts.batch === 1) return JSON.stringify(syntheticUser(random, version));
    const users = Array.from({ length: opts.batch }, () => syntheticUser(random, version));
    return opts.ndjson ? users.map((u) => JSON.stringify(u)).join("\n") : JSON.stringify(users);
  };

  const worker = async () => {
    const held: { connection: HttpConnection | null } = { connection: null };
    const send = async (bytes: Uint8Array<ArrayBuffer>, headers: Record<string, string>) => {
      if (useFetch) {
        const response = await doFetch(opts.url, { method: "POST", body: bytes, headers });
        await response.arrayBuffer();
        return response.status;
      }
      try {
        held.connection ??= await HttpConnection.open(url);
        return (await held.connection.post(path, headers, bytes)).status;
      } catch (err) {
        held.connection?.close();
        held.connection = null;
        throw err;
      }
    };
    try {
      await loop(send);
    } finally {
      held.connection?.close();
    }
  };

  const loop = async (
    send: (bytes: Uint8Array<ArrayBuffer>, headers: Record<string, string>) => Promise<number>,
  ) => {
    for (;;) {
      const i = next++;
      if (i >= totalRequests) return;
      if (secondsPerRequest > 0) {
        const due = started + i * secondsPerRequest * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      if (performance.now() >= end) return;
      const text = body();
      const bytes = encoder.encode(text);
      const headers: Record<string, string> = { "content-type": contentType };
      if (opts.secret) {
        const id = `msg_${crypto.randomUUID()}`;
        const ts = Math.floor(Date.now() / 1000);
        headers["webhook-id"] = id;
        headers["webhook-timestamp"] = String(ts);
        headers["webhook-signature"] = await signWebhook(opts.secret, id, ts, bytes);
      }
      const t0 = performance.now();
      let status: string;
      try {
        status = String(await send(bytes, headers));
      } catch {
        status = "error";
      }
      const t1 = performance.now();
      if (t0 >= warmupEnd) {
        if (Number.isNaN(measureStart)) measureStart = t0;
        latencies[measured++] = t1 - t0;
        measuredEvents += opts.batch;
        bodyBytes += bytes.length;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === "202") accepted += opts.batch;
        lastFinish = Math.max(lastFinish, t1);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));

  const seconds = measured > 0 ? (lastFinish - measureStart) / 1000 : 0;
  const sorted = latencies.subarray(0, measured).sort();
  const pct = (p: number) =>
    measured === 0 ? 0 : round(sorted[Math.min(measured - 1, Math.floor(p * measured))]!);
  return {
    requests: measured,
    events: measuredEvents,
    accepted,
    seconds: round(seconds),
    eventsPerSecond: seconds > 0 ? Math.round(accepted / seconds) : 0,
    requestsPerSecond: seconds > 0 ? Math.round(measured / seconds) : 0,
    latencyMs: { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: pct(1) },
    statuses,
    bodyBytes: measured > 0 ? Math.round(bodyBytes / measured) : 0,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
