/**
 * A load generator nobody here wrote: `wrk` (Debian package `wrk`), driving the webhook with
 * pre-signed requests, so that the benchmark can tell whether our own generator
 * (`load/run_load.ts`) is what limits a run.
 *
 * `wrk` cannot sign, so the requests are signed beforehand and cycled by a Lua script: each
 * `webhook-id` comes back once per cycle, and the ingest under `wrk` runs with its replay guard
 * off (`INGEST_REPLAY_CACHE_SIZE=0`). The timestamps are at most a few minutes old, inside the
 * signature's tolerance.
 */
import { signWebhook } from "../ingest/http/webhook_signature.ts";
import { syntheticUser } from "../load/synthetic_user.ts";
import { createRng } from "../testing/rng.ts";

/** What one `wrk` run measured. */
export interface WrkSummary {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Answers other than 2xx/3xx, and socket errors. */
  failed: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/** Whether `wrk` is on the PATH. */
export async function haveWrk(): Promise<boolean> {
  try {
    const out = await new Deno.Command("wrk", { args: ["-v"], stdout: "null", stderr: "null" })
      .output();
    return out.code <= 1; // wrk -v prints its version and exits 1
  } catch {
    return false;
  }
}

/**
 * Writes a Lua script with `count` distinct signed requests of `batch` users each, and returns
 * its path (in a new temporary folder).
 */
export async function writeWrkScript(
  secret: string,
  count: number,
  batch: number,
): Promise<string> {
  const random = createRng(11).next;
  const ts = Math.floor(Date.now() / 1000);
  const encoder = new TextEncoder();
  const lines: string[] = ["local requests = {}"];
  for (let i = 0; i < count; i++) {
    const users = Array.from({ length: batch }, () => syntheticUser(random));
    const body = JSON.stringify(batch === 1 ? users[0] : users);
    const id = `msg_wrk_${i}_${crypto.randomUUID()}`;
    const signature = await signWebhook(secret, id, ts, encoder.encode(body));
    const headers = {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(ts),
      "webhook-signature": signature,
    };
    lines.push(
      `requests[${i + 1}] = wrk.format("POST", nil, ${luaTable(headers)}, ${luaString(body)})`,
    );
  }
  lines.push(
    "local n = 0",
    // Each thread starts at a different place in the cycle.
    "function setup(thread) n = n + 1; thread:set('offset', n * 997) end",
    "function init(args) i = offset or 0 end",
    `function request() i = i + 1; return requests[(i % ${count}) + 1] end`,
    "function done(summary, latency, requests)",
    "  local e = summary.errors",
    '  io.write(string.format(\'WRK {"requests":%d,"micros":%d,"failed":%d,\' ..',
    '    \'"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n\', summary.requests, summary.duration,',
    "    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50),",
    "    latency:percentile(90), latency:percentile(99), latency.max))",
    "end",
  );
  const dir = await Deno.makeTempDir({ prefix: "ingest-wrk-" });
  const path = `${dir}/signed.lua`;
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/** Runs `wrk` for `seconds` against `url` with the script; one measured run. */
export async function runWrk(
  url: string,
  script: string,
  opts: { seconds: number; connections: number; threads: number },
): Promise<WrkSummary> {
  const out = await new Deno.Command("wrk", {
    args: [
      `-t${opts.threads}`,
      `-c${opts.connections}`,
      `-d${opts.seconds}s`,
      "--timeout",
      "10s",
      "-s",
      script,
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("WRK "));
  if (!out.success || !line) {
    throw new Error(`wrk failed: ${text}${new TextDecoder().decode(out.stderr)}`);
  }
  const r = JSON.parse(line.slice(4));
  const seconds = r.micros / 1e6;
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    requests: r.requests,
    seconds: Math.round(seconds * 100) / 100,
    requestsPerSecond: Math.round(r.requests / seconds),
    failed: r.failed,
    latencyMs: { p50: ms(r.p50), p90: ms(r.p90), p99: ms(r.p99), max: ms(r.max) },
  };
}

function luaString(s: string): string {
  // A decimal escape per byte outside printable ASCII keeps UTF-8 exact in Lua.
  let out = '"';
  for (const b of new TextEncoder().encode(s)) {
    if (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c) out += String.fromCharCode(b);
    else out += `\\${b.toString().padStart(3, "0")}`;
  }
  return out + '"';
}

function luaTable(headers: Record<string, string>): string {
  return `{${
    Object.entries(headers).map(([k, v]) => `[${luaString(k)}] = ${luaString(v)}`).join(", ")
  }}`;
}
