import assert from "node:assert/strict";
import {
  createWebhookVerifier,
  parseSecret,
  SignatureError,
  signWebhook,
} from "./webhook_signature.ts";
import { OTHER_SECRET, TEST_SECRET } from "../../testing/webhook.ts";

const encoder = new TextEncoder();
const NOW = 1_700_000_000_000;
const TS = NOW / 1000;

const verifier = (secrets = [TEST_SECRET], toleranceSeconds = 300) =>
  createWebhookVerifier({ secrets: secrets.map(parseSecret), toleranceSeconds, now: () => NOW });

async function rejects(promise: Promise<unknown>, message: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SignatureError, `expected SignatureError, got ${err}`);
    assert.match(err.message, message);
    return true;
  });
}

Deno.test("signWebhook() matches the Standard Webhooks reference signature", async () => {
  // The example from the Standard Webhooks specification's reference libraries.
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const body = encoder.encode('{"test": 2432232314}');
  const signature = await signWebhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
  assert.equal(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
});

Deno.test("verify() accepts a correctly signed, fresh request", async () => {
  const body = encoder.encode('{"a":1}');
  const signature = await signWebhook(TEST_SECRET, "msg_1", TS, body);
  await verifier().verify({ id: "msg_1", timestamp: String(TS), signature }, body);
});

Deno.test("verify() refuses a tampered body", async () => {
  const signature = await signWebhook(TEST_SECRET, "msg_1", TS, encoder.encode('{"a":1}'));
  await rejects(
    verifier().verify({ id: "msg_1", timestamp: String(TS), signature }, encoder.encode('{"a":2}')),
    /No webhook-signature matches/,
  );
});

Deno.test("verify() refuses a signature made with another secret", async () => {
  const body = encoder.encode("{}");
  const signature = await signWebhook(OTHER_SECRET, "msg_1", TS, body);
  await rejects(
    verifier().verify({ id: "msg_1", timestamp: String(TS), signature }, body),
    /No webhook-signature matches/,
  );
});

Deno.test("verify() refuses a timestamp outside the tolerance, in the past or the future", async () => {
  const body = encoder.encode("{}");
  for (const ts of [TS - 301, TS + 301]) {
    const signature = await signWebhook(TEST_SECRET, "msg_1", ts, body);
    await rejects(
      verifier().verify({ id: "msg_1", timestamp: String(ts), signature }, body),
      /Stale webhook-timestamp: 301 s away from now, the tolerance is 300 s/,
    );
  }
});

Deno.test("verify() accepts any matching signature of several, and any of several secrets", async () => {
  const body = encoder.encode("{}");
  const good = await signWebhook(TEST_SECRET, "msg_1", TS, body);
  const bad = await signWebhook(OTHER_SECRET, "msg_1", TS, body);
  // The sender rotates: it signs with old and new key.
  await verifier().verify(
    { id: "msg_1", timestamp: String(TS), signature: `${bad} ${good}` },
    body,
  );
  // The receiver rotates: it accepts old and new key.
  await verifier([OTHER_SECRET, TEST_SECRET]).verify(
    { id: "msg_1", timestamp: String(TS), signature: good },
    body,
  );
});

Deno.test("verify() says what is missing or malformed", async () => {
  const body = encoder.encode("{}");
  await rejects(
    verifier().verify({ id: null, timestamp: String(TS), signature: "v1,x" }, body),
    /Missing webhook-id, webhook-timestamp or webhook-signature header/,
  );
  await rejects(
    verifier().verify({ id: "m", timestamp: "yesterday", signature: "v1,x" }, body),
    /Cannot parse webhook-timestamp/,
  );
  await rejects(
    verifier().verify({ id: "m", timestamp: String(TS), signature: "v2,abc" }, body),
    /Cannot parse webhook-signature: expected v1,<base64>/,
  );
});

Deno.test("parseSecret() refuses a secret without the whsec_ prefix or with a short key", () => {
  assert.throws(() => parseSecret("abc"), /expected whsec_ prefix/);
  assert.throws(() => parseSecret("whsec_!!!"), /expected base64/);
  assert.throws(() => parseSecret("whsec_" + btoa("short")), /at least 16 bytes/);
});

Deno.test("verify() accepts only canonical base64, so a signature has one spelling", async () => {
  const body = encoder.encode("{}");
  const good = await signWebhook(TEST_SECRET, "msg_b64", TS, body);
  const value = good.slice("v1,".length);
  const urlSafe = value.replaceAll("+", "-").replaceAll("/", "_");
  // Node's base64 decoder skips unknown characters and reads base64url too: each of these
  // decoded to the right MAC before, although none is the signature that was sent.
  const spellings = [
    `v1,${value}!`,
    `v1,${value.slice(0, 10)}*${value.slice(10)}`,
    `v1,${value.slice(0, -1)}`,
    `v1,${value}==`,
    ...(urlSafe === value ? [] : [`v1,${urlSafe}`]),
  ];
  for (const signature of spellings) {
    await rejects(
      verifier().verify({ id: "msg_b64", timestamp: String(TS), signature }, body),
      /Cannot parse webhook-signature|No webhook-signature matches/,
    );
  }
  await verifier().verify({ id: "msg_b64", timestamp: String(TS), signature: good }, body);
});

Deno.test("verify() ignores other signature versions and refuses negative or fractional timestamps", async () => {
  const body = encoder.encode("{}");
  const good = await signWebhook(TEST_SECRET, "msg_v", TS, body);
  const value = good.slice("v1,".length);
  for (const signature of [`v1a,${value}`, `v2,${value}`, `V1,${value}`, `,${value}`, "v1,"]) {
    await rejects(
      verifier().verify({ id: "msg_v", timestamp: String(TS), signature }, body),
      /Cannot parse webhook-signature/,
    );
  }
  for (const timestamp of [`-${TS}`, `${TS}.5`, ` ${TS}`, `${TS}e0`, "1".repeat(16)]) {
    await rejects(
      verifier().verify({ id: "msg_v", timestamp, signature: good }, body),
      /Cannot parse webhook-timestamp/,
    );
  }
  await rejects(
    verifier().verify({ id: "msg_v", timestamp: "", signature: good }, body),
    /Missing webhook-id/,
  );
});
