/**
 * Webhook signatures by the Standard Webhooks scheme (https://www.standardwebhooks.com/).
 *
 * A sender signs `${webhook-id}.${webhook-timestamp}.${body}` with HMAC-SHA256 and sends
 * `webhook-signature: v1,<base64>` (several space-separated signatures while it rotates keys).
 * Secrets are written `whsec_<base64 key>`. The receiver accepts a request when any signature
 * matches any of its secrets and the timestamp is within the tolerance window.
 *
 * Replay protection (a `webhook-id` seen before) lives in `replay_guard.ts`.
 *
 * @example
 * ```ts
 * const key = parseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
 * const verifier = createWebhookVerifier({ secrets: [key], toleranceSeconds: 300 });
 * const body = new TextEncoder().encode("{}");
 * const ts = Math.floor(Date.now() / 1000);
 * const signature = await signWebhook(key, "msg_1", ts, body);
 * await verifier.verify({ id: "msg_1", timestamp: String(ts), signature }, body);
 * ```
 */

import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

const SECRET_PREFIX = "whsec_";
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A missing, malformed, stale or wrong signature (answered 401). */
export class SignatureError extends Error {
  override name = "SignatureError";
}

/** The three Standard Webhooks headers, as they arrived (null when absent). */
export interface WebhookHeaders {
  id: string | null;
  timestamp: string | null;
  signature: string | null;
}

/** Checks the signature headers of a request. */
export interface WebhookVerifier {
  /**
   * Resolves when the request is authentic and fresh.
   * @throws {SignatureError} saying which check failed.
   */
  verify(headers: WebhookHeaders, body: Uint8Array): Promise<void>;
}

/**
 * Decodes a `whsec_<base64>` secret into its key bytes.
 * @throws {Error} "expected whsec_ prefix" or "not base64" for a malformed secret.
 */
export function parseSecret(secret: string): Uint8Array {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error("expected whsec_ prefix");
  let key: Uint8Array;
  try {
    key = Uint8Array.from(atob(secret.slice(SECRET_PREFIX.length)), (c) => c.charCodeAt(0));
  } catch {
    throw new Error("expected base64 after whsec_");
  }
  if (key.length < 16) throw new Error("expected a key of at least 16 bytes after whsec_");
  return key;
}

/** Options for `createWebhookVerifier`. */
export interface WebhookVerifierOptions {
  /** Key bytes of every secret currently accepted. */
  secrets: readonly Uint8Array[];
  /** How far a timestamp may be from now, either way. */
  toleranceSeconds: number;
  /** The clock in ms (default `Date.now`). */
  now?: () => number;
}

/** Creates a verifier for the given secrets. */
export function createWebhookVerifier(opts: WebhookVerifierOptions): WebhookVerifier {
  const now = opts.now ?? Date.now;
  const keys = [...opts.secrets];
  return {
    verify(headers, body) {
      try {
        check(headers, body);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };

  function check(headers: WebhookHeaders, body: Uint8Array): void {
    const { id, timestamp, signature } = headers;
    if (!id || !timestamp || !signature) {
      throw new SignatureError(
        "Missing webhook-id, webhook-timestamp or webhook-signature header",
      );
    }
    if (!/^\d{1,15}$/.test(timestamp)) {
      throw new SignatureError("Cannot parse webhook-timestamp: expected Unix seconds");
    }
    const skew = Math.abs(now() / 1000 - Number(timestamp));
    if (skew > opts.toleranceSeconds) {
      throw new SignatureError(
        `Stale webhook-timestamp: ${
          Math.round(skew)
        } s away from now, the tolerance is ${opts.toleranceSeconds} s`,
      );
    }
    const offered = signature.split(" ").flatMap((part) => {
      const [version, value] = part.split(",", 2);
      // Buffer's base64 decoder skips characters it does not know; accept only canonical
      // base64, so one signature has exactly one spelling.
      if (version !== "v1" || !value || !BASE64.test(value)) return [];
      const bytes = Buffer.from(value, "base64");
      return bytes.toString("base64") === value ? [bytes] : [];
    });
    if (offered.length === 0) {
      throw new SignatureError("Cannot parse webhook-signature: expected v1,<base64>");
    }
    let match = false;
    for (const key of keys) {
      const expected = hmac(key, id, timestamp, body);
      // Compare against every offered signature (no early exit) in constant time.
      for (const candidate of offered) {
        match = (candidate.length === expected.length && timingSafeEqual(expected, candidate)) ||
          match;
      }
    }
    if (!match) throw new SignatureError("No webhook-signature matches a configured secret");
  }
}

/**
 * Signs a request body the way a Standard Webhooks sender does.
 * @returns the `webhook-signature` header value, `v1,<base64>`.
 */
export function signWebhook(
  secret: Uint8Array | string,
  id: string,
  timestampSeconds: number,
  body: Uint8Array,
): Promise<string> {
  const key = typeof secret === "string" ? parseSecret(secret) : secret;
  return Promise.resolve(`v1,${hmac(key, id, String(timestampSeconds), body).toString("base64")}`);
}

// node:crypto's HMAC is synchronous and about 8x cheaper per request than WebCrypto's
// (measured: ~6 µs against ~50 µs for a 500-byte body on Deno 2.5).
function hmac(key: Uint8Array, id: string, timestamp: string, body: Uint8Array): Buffer {
  return createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
}
