/**
 * Who may call the write endpoints: requests signed by the Standard Webhooks scheme, or,
 * when the operator explicitly allows it (`INGEST_ALLOW_UNSIGNED=true`), unsigned requests.
 * A request that carries a signature is always verified, even in unsigned mode, and refused
 * when no secret is configured to verify it with: a wrong signature is never waved through.
 *
 * A `webhook-id` is claimed against replays once the signature checks out; `release()` gives
 * it back when the request ends without being accepted, so the sender's retry is not refused.
 */
import { HttpError } from "./http_error.ts";
import type { ReplayGuard } from "./replay_guard.ts";
import { SignatureError, type WebhookVerifier } from "./webhook_signature.ts";

/** The longest `webhook-id` accepted (Standard Webhooks ids are short, e.g. `msg_<ksuid>`). */
export const MAX_WEBHOOK_ID_LENGTH = 256;

/** The outcome of a successful authentication. */
export interface Authenticated {
  /** Whether the request was signed and verified. */
  signed: boolean;
  /** Gives the claimed `webhook-id` back (call when the request is not accepted). */
  release(): void;
}

/** Checks a request's signature and replay status. */
export type Authenticate = (headers: Headers, body: Uint8Array) => Promise<Authenticated>;

/** Options for `createAuthenticate`. */
export interface AuthenticateOptions {
  /** Null when no secret is configured. */
  verifier: WebhookVerifier | null;
  allowUnsigned: boolean;
  replayGuard: ReplayGuard;
}

/** Creates the authentication step. */
export function createAuthenticate(opts: AuthenticateOptions): Authenticate {
  return async (headers, body) => {
    const id = headers.get("webhook-id");
    const timestamp = headers.get("webhook-timestamp");
    const signature = headers.get("webhook-signature");
    const signed = signature !== null;
    if (signed) {
      // A signature that cannot be checked is not waved through, whatever the mode.
      if (opts.verifier === null) {
        throw new SignatureError(
          "webhook-signature cannot be verified: no WEBHOOK_SECRET is configured",
        );
      }
      await opts.verifier.verify({ id, timestamp, signature }, body);
    } else if (!opts.allowUnsigned) {
      throw new SignatureError(
        "Missing webhook-signature header: unsigned requests are refused",
      );
    }
    if (id === null) return { signed, release() {} };
    // Every claimed id is kept for the replay window: bound what one id may cost.
    if (id.length > MAX_WEBHOOK_ID_LENGTH) {
      throw new HttpError(
        400,
        "Bad request",
        `webhook-id is ${id.length} characters long, the limit is ${MAX_WEBHOOK_ID_LENGTH}`,
      );
    }
    if (!opts.replayGuard.claim(id)) {
      throw new HttpError(
        409,
        "Replayed webhook-id",
        `webhook-id "${id.slice(0, 100)}" was already received within the replay window`,
      );
    }
    return { signed, release: () => opts.replayGuard.release(id) };
  };
}
