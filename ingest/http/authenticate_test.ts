import assert from "node:assert/strict";
import { createAuthenticate } from "./authenticate.ts";
import { createReplayGuard } from "./replay_guard.ts";
import {
  createWebhookVerifier,
  parseSecret,
  SignatureError,
  signWebhook,
} from "./webhook_signature.ts";

const SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const body = new TextEncoder().encode('{"id":"x"}');

function guard() {
  return createReplayGuard({ windowMs: 300_000, maxEntries: 100 });
}

Deno.test("createAuthenticate() in unsigned mode without a secret refuses a request that carries a signature", async () => {
  const authenticate = createAuthenticate({
    verifier: null,
    allowUnsigned: true,
    replayGuard: guard(),
  });
  const headers = new Headers({
    "webhook-id": "msg_1",
    "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
    "webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl",
  });
  await assert.rejects(
    authenticate(headers, body),
    (err) =>
      err instanceof SignatureError &&
      err.message === "webhook-signature cannot be verified: no WEBHOOK_SECRET is configured",
  );
  // Unsigned requests are what the mode allows.
  const unsigned = await authenticate(new Headers(), body);
  assert.equal(unsigned.signed, false);
});

Deno.test("createAuthenticate() in unsigned mode with a secret refuses a wrong signature and takes a right one", async () => {
  const verifier = createWebhookVerifier({ secrets: [parseSecret(SECRET)], toleranceSeconds: 300 });
  const authenticate = createAuthenticate({ verifier, allowUnsigned: true, replayGuard: guard() });
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = (signature: string) =>
    new Headers({
      "webhook-id": "msg_2",
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signature,
    });
  await assert.rejects(authenticate(headers("v1,AAAA"), body), SignatureError);
  const good = await signWebhook(SECRET, "msg_2", timestamp, body);
  assert.equal((await authenticate(headers(good), body)).signed, true);
});
