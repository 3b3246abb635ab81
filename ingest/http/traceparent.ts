/**
 * W3C Trace Context (`traceparent`): each request continues the caller's trace, or starts one.
 *
 * The ingest is one span, and its context is the header that travels with every event of the
 * request to Kafka. With traces on (`OTEL_DENO=true`) that span is `Deno.serve`'s request span,
 * which Deno exports: a record's trace never points at a span nobody exported. With traces off,
 * the ingest keeps the caller's trace id and flags and makes up its own span id, cheaply:
 *
 * Ids are cut from a pool of random bytes refilled 4 KiB at a time and written with a table of
 * byte spellings: one `getRandomValues` call per ~170 requests instead of one per id, and no
 * per-byte `toString`/`padStart`.
 */

import { formatTraceparent, type Tracing } from "../../shared/tracing.ts";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ALL_ZERO = /^0+$/;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const pool = new Uint8Array(4096);
let used = pool.length;

/**
 * The `traceparent` of the request being handled: the active (exported) span's context when
 * tracing is on and records this request, else `childTraceparent(incoming)`.
 */
export function requestTraceparent(tracing: Tracing, incoming: string | null): string {
  if (tracing.enabled) {
    const active = tracing.activeContext();
    if (active) return formatTraceparent(active);
  }
  return childTraceparent(incoming);
}

/**
 * The `traceparent` for the ingest's span when traces are off: same trace as `incoming` when that is a valid
 * version-00 header (all-zero ids are invalid), otherwise a new trace.
 */
export function childTraceparent(incoming: string | null): string {
  if (incoming !== null) {
    const match = incoming.trim().toLowerCase().match(TRACEPARENT);
    if (match && !ALL_ZERO.test(match[1]!) && !ALL_ZERO.test(match[2]!)) {
      return `00-${match[1]}-${randomHex(8)}-${match[3]}`;
    }
  }
  return `00-${randomHex(16)}-${randomHex(8)}-01`;
}

/** `bytes` random bytes in lower-case hex, never all zero. */
function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  let s = "";
  let any = 0;
  for (let i = used, end = used + bytes; i < end; i++) {
    const b = pool[i]!;
    any |= b;
    s += HEX[b];
  }
  used += bytes;
  // An all-zero id is invalid; the chance is negligible but the fix is cheap.
  return any === 0 ? "1".padStart(bytes * 2, "0") : s;
}
