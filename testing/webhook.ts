/**
 * The test kit's signed webhooks: two secrets and requests signed by the Standard Webhooks
 * scheme, as a sender makes them.
 *
 * @example
 * ```ts
 * import type { IngestApp } from "../ingest/http/app.ts";
 * import { sampleUser } from "./users.ts";
 * declare const app: IngestApp;
 *
 * const response = await app.handler(await signedRequest(JSON.stringify(sampleUser())));
 * ```
 */
import { signWebhook } from "../ingest/http/webhook_signature.ts";

/** A test secret (32 key bytes). */
export const TEST_SECRET = "whsec_" + btoa("0123456789abcdef0123456789abcdef");
/** Another secret, for "wrong secret" and rotation tests. */
export const OTHER_SECRET = "whsec_" + btoa("fedcba9876543210fedcba9876543210");

/** Options for `signedRequest`. */
export interface SignedRequestOptions {
  /** The path on `http://ingest.test` (default `/v1/users`). */
  path?: string;
  /** The signing secret (default `TEST_SECRET`). */
  secret?: string;
  /** The webhook id (default a fresh `msg_…`). */
  id?: string;
  /** Unix seconds (default now). */
  timestamp?: number;
  contentType?: string;
  headers?: Record<string, string>;
  /** Replace the body after signing (tampering). */
  tamper?: (body: string) => string;
}

/** A POST of `body` to the ingest, signed by the Standard Webhooks scheme. */
export async function signedRequest(
  body: string,
  opts: SignedRequestOptions = {},
): Promise<Request> {
  const id = opts.id ?? `msg_${crypto.randomUUID()}`;
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const bytes = new TextEncoder().encode(body);
  const signature = await signWebhook(opts.secret ?? TEST_SECRET, id, timestamp, bytes);
  return new Request(`http://ingest.test${opts.path ?? "/v1/users"}`, {
    method: "POST",
    body: opts.tamper ? opts.tamper(body) : body,
    headers: {
      "content-type": opts.contentType ?? "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signature,
      ...opts.headers,
    },
  });
}
