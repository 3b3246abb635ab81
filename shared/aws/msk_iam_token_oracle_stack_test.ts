/**
 * Our MSK IAM token against AWS's own signer (`aws-msk-iam-sasl-signer-js`, under Node, with a
 * fixed clock): for the same credentials, region and time, the two tokens must hold the same
 * URL, parameter by parameter, signature included, but for `User-Agent` (ours is
 * `user-pipeline`, AWS's `aws-msk-iam-sasl-signer-js/<version>`).
 *
 * Named `*_stack_test.ts` though it starts no stack: it needs Node, and npm's registry the
 * first time (the library is installed into the stack's cache), which `deno task test:unit`
 * must not need. Once installed, it runs in about a second.
 */
import assert from "node:assert/strict";
import { awsMskIamToken, MSK_IAM_SIGNER_VERSION } from "../../stack/msk_iam_signer.ts";
import type { AwsCredentials } from "./credentials.ts";
import { MSK_IAM_USER_AGENT, mskIamToken } from "./msk_iam_token.ts";

const KEYS = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
/** A session token with the characters that need escaping in a query (`+`, `/`, `=`). */
const SESSION_TOKEN = "IQoJb3JpZ2luX2VjEKr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+abc/def==";
/** With milliseconds, which X-Amz-Date drops. */
const NOW = new Date("2026-11-05T23:59:58.750Z");

/** The parameters compared one by one (all the URL holds but User-Agent). */
const SIGNED = [
  "Action",
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-Security-Token",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
];

/** The URL inside a token (base64url without padding). */
function decode(token: string): URL {
  assert.match(token, /^[A-Za-z0-9_-]+$/, "base64url without padding");
  return new URL(atob(token.replace(/-/g, "+").replace(/_/g, "/")));
}

/** Both tokens for one input, decoded. */
async function both(region: string, credentials: AwsCredentials, now = NOW) {
  const [ours, aws] = await Promise.all([
    mskIamToken({ region, credentials, now }),
    awsMskIamToken({ region, credentials, now }),
  ]);
  return { ours, aws, oursUrl: decode(ours.token), awsUrl: decode(aws.token) };
}

/** Asserts the two URLs are the same but for User-Agent; returns the shared parameters. */
function assertSameButUserAgent(oursUrl: URL, awsUrl: URL): Record<string, string> {
  assert.equal(oursUrl.origin + oursUrl.pathname, awsUrl.origin + awsUrl.pathname, "host, path");
  const names = (u: URL) => [...u.searchParams.keys()].sort();
  assert.deepEqual(names(oursUrl), names(awsUrl), "the same parameter names");
  for (const name of SIGNED) {
    assert.equal(oursUrl.searchParams.get(name), awsUrl.searchParams.get(name), name);
  }
  assert.equal(oursUrl.searchParams.get("User-Agent"), MSK_IAM_USER_AGENT);
  assert.equal(
    awsUrl.searchParams.get("User-Agent"),
    `aws-msk-iam-sasl-signer-js/${MSK_IAM_SIGNER_VERSION}`,
  );
  // Byte for byte, once User-Agent is the same: the same encoding and order.
  const withAwsAgent = new URL(oursUrl);
  withAwsAgent.searchParams.set("User-Agent", awsUrl.searchParams.get("User-Agent")!);
  withAwsAgent.searchParams.sort();
  assert.equal(withAwsAgent.href, awsUrl.href, "the same URL but for User-Agent");
  return Object.fromEntries(awsUrl.searchParams);
}

Deno.test("mskIamToken() signs as aws-msk-iam-sasl-signer-js does: static keys, us-east-1", async () => {
  const { oursUrl, awsUrl } = await both("us-east-1", KEYS);
  const params = assertSameButUserAgent(oursUrl, awsUrl);
  assert.equal(oursUrl.host, "kafka.us-east-1.amazonaws.com");
  assert.equal(params["X-Amz-Security-Token"], undefined, "no session token, none in the URL");
  assert.equal(
    params["X-Amz-Credential"],
    "AKIAIOSFODNN7EXAMPLE/20261105/us-east-1/kafka-cluster/aws4_request",
  );
  assert.equal(params["X-Amz-Date"], "20261105T235958Z");
  assert.equal(
    oursUrl.searchParams.get("X-Amz-Signature"),
    awsUrl.searchParams.get("X-Amz-Signature"),
    "the same signature",
  );
});

Deno.test("mskIamToken() signs as aws-msk-iam-sasl-signer-js does: with a session token", async () => {
  const { oursUrl, awsUrl } = await both("eu-west-1", { ...KEYS, sessionToken: SESSION_TOKEN });
  const params = assertSameButUserAgent(oursUrl, awsUrl);
  assert.equal(params["X-Amz-Security-Token"], SESSION_TOKEN);
});

Deno.test("mskIamToken() signs as aws-msk-iam-sasl-signer-js does: another region, another day", async () => {
  const { oursUrl, awsUrl } = await both(
    "ap-southeast-2",
    { ...KEYS, sessionToken: SESSION_TOKEN },
    new Date("2027-02-28T00:00:00.000Z"),
  );
  const params = assertSameButUserAgent(oursUrl, awsUrl);
  assert.equal(oursUrl.host, "kafka.ap-southeast-2.amazonaws.com");
  assert.equal(
    params["X-Amz-Credential"],
    "AKIAIOSFODNN7EXAMPLE/20270228/ap-southeast-2/kafka-cluster/aws4_request",
  );
});

Deno.test("mskIamToken() expires as aws-msk-iam-sasl-signer-js does: 900 s after X-Amz-Date", async () => {
  const { ours, aws, oursUrl, awsUrl } = await both("eu-central-1", KEYS);
  const params = assertSameButUserAgent(oursUrl, awsUrl);
  assert.equal(params["X-Amz-Expires"], "900");
  assert.equal(aws.expiresAt.toISOString(), "2026-11-06T00:14:58.000Z");
  assert.equal(ours.expiresAt.getTime(), aws.expiresAt.getTime());
});

Deno.test("credentials that expire sooner: AWS's JS signer shortens X-Amz-Expires (fractionally), ours keeps 900", async () => {
  // The documented difference (msk_iam_token.ts): the same signature input but for
  // X-Amz-Expires, so the signatures differ; both say the token ends with the credentials.
  const expiration = new Date(NOW.getTime() + 10 * 60_000);
  const { ours, aws, oursUrl, awsUrl } = await both("eu-west-1", {
    ...KEYS,
    sessionToken: SESSION_TOKEN,
    expiration,
  });
  assert.equal(oursUrl.searchParams.get("X-Amz-Expires"), "900");
  assert.equal(awsUrl.searchParams.get("X-Amz-Expires"), "600");
  assert.equal(ours.expiresAt.getTime(), expiration.getTime());
  // AWS's counts from the signing second (X-Amz-Date), so it ends 0.75 s early.
  assert.equal(aws.expiresAt.toISOString(), "2026-11-06T00:09:58.000Z");

  const odd = await both("eu-west-1", {
    ...KEYS,
    expiration: new Date(NOW.getTime() + 10 * 60_000 + 123),
  });
  assert.equal(
    odd.awsUrl.searchParams.get("X-Amz-Expires"),
    "600.123",
    "a fraction of a second: not an integer as SigV4 documents it",
  );
});
