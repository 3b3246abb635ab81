/**
 * One bound on the request body bytes held by all requests at once.
 *
 * Each request's body is bounded (`INGEST_MAX_BODY_BYTES`), but many at once are not: 48
 * concurrent 1 MiB bodies took the ingest from 124 to 475 MiB. A request reserves its body's
 * size before reading it (the declared `Content-Length`, or the per-request limit for a body
 * of unknown length) and keeps the reservation until its answer, since the parsed users and
 * their events live that long. A reservation that does not fit is refused with 503 and
 * `Retry-After` (nothing of the request was read or accepted), except when nothing else is
 * reserved, so one request of the largest allowed size always gets through.
 */
import { HttpError } from "./http_error.ts";

/** One request's share of the budget. */
export interface BodyLease {
  /**
   * Reserves `bytes` more for this request.
   * @throws {HttpError} 503 with `Retry-After` when they do not fit.
   */
  take(bytes: number): void;
  /** Gives back everything this request reserved; safe to call twice. */
  release(): void;
}

/** The budget shared by all requests. */
export interface BodyBudget {
  /** A new, empty lease for one request. */
  lease(): BodyLease;
  /** Bytes reserved now (for `/readyz`, metrics and tests). */
  reserved(): number;
  /** The bound. */
  readonly maxBytes: number;
}

/** Creates a budget of `maxBytes` body bytes in flight. */
export function createBodyBudget(maxBytes: number): BodyBudget {
  let reserved = 0;
  const busy = new HttpError(
    503,
    "Too many request bodies in flight",
    `More than ${maxBytes} bytes of request bodies are being handled: retry shortly`,
    { headers: { "retry-after": "1" } },
  );
  return {
    maxBytes,
    reserved: () => reserved,
    lease() {
      let held = 0;
      return {
        take(bytes) {
          if (reserved > 0 && reserved + bytes > maxBytes) throw busy;
          reserved += bytes;
          held += bytes;
        },
        release() {
          reserved -= held;
          held = 0;
        },
      };
    },
  };
}
