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

const SECRET_PREFIX = "whsec_";
const encoder = new TextEncoder();

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
  const keys = Promise.all(opts.secrets.map(importKey));
  return {
    async verify(headers, body) {
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
        return version === "v1" && value ? [decodeBase64(value)] : [];
      }).filter((s): s is Uint8Array => s !== null);
      if (offered.length === 0) {
        throw new SignatureError("Cannot parse webhook-signature: expected v1,<base64>");
      }
      const content = signedContent(id, timestamp, body);
      let match = false;
      for (const key of await keys) {
        const expected = new Uint8Array(await crypto.subtle.sign("HMAC", key, content));
        // Compare against every offered signature (no early exit) in constant time.
        for (const candidate of offered) match = constantTimeEqual(expected, candidate) || match;
      }
      if (!match) throw new SignatureError("No webhook-signature matches a configured secret");
    },
  };
}

/**
 * Signs a request body the way a Standard Webhooks sender does.
 * @returns the `webhook-signature` header value, `v1,<base64>`.
 */
export async function signWebhook(
  secret: Uint8Array | string,
  id: string,
  timestampSeconds: number,
  body: Uint8Array,
): Promise<string> {
  const key = await importKey(typeof secret === "string" ? parseSecret(secret) : secret);
  const content = signedContent(id, String(timestampSeconds), body);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, content));
  return `v1,${encodeBase64(mac)}`;
}

function importKey(key: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

function signedContent(id: string, timestamp: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + body.length);
  content.set(prefix, 0);
  content.set(body, prefix.length);
  return content;
}

/** Equal length and equal bytes, in time that depends only on the length. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function decodeBase64(text: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
