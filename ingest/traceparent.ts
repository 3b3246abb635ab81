/**
 * W3C Trace Context (`traceparent`): each request continues the caller's trace, or starts one.
 *
 * The ingest is one span: it keeps the caller's trace id and flags and puts its own span id in
 * the header that travels with every event of the request to Kafka.
 */

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The `traceparent` for the ingest's span: same trace as `incoming` when that is a valid
 * version-00 header (all-zero ids are invalid), otherwise a new trace.
 */
export function childTraceparent(incoming: string | null): string {
  const match = incoming?.trim().toLowerCase().match(TRACEPARENT);
  const traceId = match && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!) ? match[1]! : null;
  const flags = traceId ? match![3]! : "01";
  return `00-${traceId ?? randomHex(16)}-${randomHex(8)}-${flags}`;
}

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let s = "";
  for (const b of buf) s += b.toString(16).padStart(2, "0");
  // An all-zero id is invalid; the chance is negligible but the fix is cheap.
  return /^0+$/.test(s) ? "1".padStart(bytes * 2, "0") : s;
}
