import assert from "node:assert/strict";
import { createLogger } from "../logger.ts";
import { type AwsCredentials, createCredentialChain } from "./credentials.ts";
import {
  createMskIamTokenProvider,
  MSK_IAM_USER_AGENT,
  mskIamToken,
  MskIamTokenError,
} from "./msk_iam_token.ts";

const KEYS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
/** A time with milliseconds, which X-Amz-Date drops. */
const T0 = new Date("2026-03-14T15:09:26.535Z");
const MINUTE = 60_000;

/** The URL inside a token. */
function decode(token: string): URL {
  assert.match(token, /^[A-Za-z0-9_-]+$/, "base64url without padding");
  const binary = atob(token.replace(/-/g, "+").replace(/_/g, "/"));
  return new URL(binary);
}

Deno.test("mskIamToken() is the URL AWS's signer makes, but for User-Agent (known answer)", async () => {
  const { token } = await mskIamToken({
    region: "eu-west-1",
    credentials: { ...KEYS, sessionToken: "IQoJb3JpZ2luX2VjEAo+/=x" },
    now: T0,
  });
  // What aws-msk-iam-sasl-signer-js 1.0.3 makes for the same input, with its User-Agent
  // (aws-msk-iam-sasl-signer-js%2F1.0.3) replaced by ours: msk_iam_token_oracle_stack_test.ts
  // asks the library itself.
  assert.equal(
    decode(token).href,
    "https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect" +
      `&User-Agent=${MSK_IAM_USER_AGENT}` +
      "&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
      "&X-Amz-Credential=AKIDEXAMPLE%2F20260314%2Feu-west-1%2Fkafka-cluster%2Faws4_request" +
      "&X-Amz-Date=20260314T150926Z&X-Amz-Expires=900" +
      "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEAo%2B%2F%3Dx" +
      "&X-Amz-Signature=057034e2bb62d3afdaedebb5314ce736a8422781e287b33a967f630b6dbaade8" +
      "&X-Amz-SignedHeaders=host",
  );
});

Deno.test("mskIamToken() presigns GET kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect for 900 s", async () => {
  const { token, expiresAt } = await mskIamToken({
    region: "ap-southeast-2",
    credentials: KEYS,
    now: T0,
  });
  const url = decode(token);
  assert.equal(url.origin + url.pathname, "https://kafka.ap-southeast-2.amazonaws.com/");
  const params = Object.fromEntries(url.searchParams);
  assert.deepEqual(Object.keys(params), [
    "Action",
    "User-Agent",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
  ], "no X-Amz-Security-Token without a session token; names in order");
  assert.equal(params.Action, "kafka-cluster:Connect");
  assert.equal(params["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
  assert.equal(
    params["X-Amz-Credential"],
    "AKIDEXAMPLE/20260314/ap-southeast-2/kafka-cluster/aws4_request",
  );
  assert.equal(params["X-Amz-Date"], "20260314T150926Z");
  assert.equal(params["X-Amz-Expires"], "900");
  assert.equal(params["X-Amz-SignedHeaders"], "host");
  assert.match(params["X-Amz-Signature"]!, /^[0-9a-f]{64}$/);
  assert.equal(params["User-Agent"], "user-pipeline");
  assert.equal(
    expiresAt.toISOString(),
    "2026-03-14T15:24:26.000Z",
    "X-Amz-Date + 900 s",
  );
});

Deno.test("mskIamToken() keeps X-Amz-Expires=900 but ends expiresAt with credentials that expire sooner", async () => {
  const expiration = new Date(T0.getTime() + 8 * MINUTE);
  const { token, expiresAt } = await mskIamToken({
    region: "eu-west-1",
    credentials: { ...KEYS, sessionToken: "s", expiration },
    now: T0,
  });
  assert.equal(decode(token).searchParams.get("X-Amz-Expires"), "900");
  assert.equal(expiresAt.getTime(), expiration.getTime());
});

Deno.test("mskIamToken() refuses a region that is not a region name", async () => {
  for (const region of ["evil.example/x?", "EU-WEST-1", "", "eu"]) {
    const err = await mskIamToken({ region, credentials: KEYS, now: T0 }).catch((e) => e);
    assert.ok(err instanceof MskIamTokenError, `${region}: ${err}`);
    assert.equal(
      err.message,
      `Cannot make the MSK IAM token: ${
        JSON.stringify(region)
      } is not a region name (expected e.g. eu-west-1)`,
    );
  }
});

Deno.test("mskIamToken() refuses empty credentials", async () => {
  const err = await mskIamToken({
    region: "eu-west-1",
    credentials: { accessKeyId: "", secretAccessKey: "s" },
    now: T0,
  }).catch((e) => e);
  assert.ok(err instanceof MskIamTokenError);
  assert.equal(
    err.message,
    "Cannot make the MSK IAM token for eu-west-1: the AWS credentials have no access key id " +
      "or secret access key",
  );
});

/** A provider on a fake clock, counting credential requests. */
function fakeProvider(
  credentials: () => Promise<AwsCredentials> = () => Promise.resolve(KEYS),
) {
  const clock = { now: T0.getTime() };
  const lines: Record<string, unknown>[] = [];
  let asked = 0;
  const token = createMskIamTokenProvider({
    region: "eu-west-1",
    credentials: () => {
      asked++;
      return credentials();
    },
    now: () => new Date(clock.now),
    logger: createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l)) }),
  });
  return { token, clock, lines, asked: () => asked };
}
const dateOf = (token: string) => decode(token).searchParams.get("X-Amz-Date");

Deno.test("createMskIamTokenProvider() caches the token until five minutes before it expires", async () => {
  const p = fakeProvider();
  const first = await p.token();
  assert.equal(dateOf(first), "20260314T150926Z");
  // The token ends at 15:24:26 (signed at 15:09:26, milliseconds dropped): renewed from 15:19:26.
  p.clock.now = Date.parse("2026-03-14T15:19:25.999Z");
  assert.equal(await p.token(), first, "ten minutes less a moment later: the same token");
  assert.equal(p.asked(), 1, "credentials asked once");
  p.clock.now = Date.parse("2026-03-14T15:19:26.000Z");
  const second = await p.token();
  assert.notEqual(second, first);
  assert.equal(dateOf(second), "20260314T151926Z");
  assert.equal(p.asked(), 2, "credentials asked again for the new token");
  assert.equal(await p.token(), second);
  assert.deepEqual(
    p.lines.map((l) => [l.level, l.msg, l.component, l.expiresAt]),
    [
      ["debug", "made an MSK IAM token", "msk-iam-token", "2026-03-14T15:24:26.000Z"],
      ["debug", "made an MSK IAM token", "msk-iam-token", "2026-03-14T15:34:26.000Z"],
    ],
  );
  assert.ok(!JSON.stringify(p.lines).includes(first), "the token is never logged");
});

Deno.test("createMskIamTokenProvider() renews before temporary credentials expire", async () => {
  const expiration = new Date(T0.getTime() + 8 * MINUTE);
  const p = fakeProvider(() => Promise.resolve({ ...KEYS, sessionToken: "s", expiration }));
  const first = await p.token();
  p.clock.now = T0.getTime() + 3 * MINUTE - 1;
  assert.equal(await p.token(), first);
  p.clock.now = T0.getTime() + 3 * MINUTE;
  assert.notEqual(await p.token(), first, "five minutes before the credentials expire");
  assert.equal(p.asked(), 2);
});

Deno.test("createMskIamTokenProvider() shares one renewal among concurrent callers", async () => {
  const p = fakeProvider();
  const tokens = await Promise.all([p.token(), p.token(), p.token()]);
  assert.equal(new Set(tokens).size, 1);
  assert.equal(p.asked(), 1);
});

Deno.test("createMskIamTokenProvider() names the credentials' source when the chain fails, and tries again next time", async () => {
  let status = 500;
  const chain = createCredentialChain(
    { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/task" },
    {
      fetch: () =>
        Promise.resolve(
          status === 200
            ? Response.json({ AccessKeyId: "ASIA", SecretAccessKey: "k", Token: "t" })
            : new Response("no", { status }),
        ),
    },
  );
  const p = fakeProvider(() => chain.get());
  const err = await p.token().catch((e) => e);
  assert.ok(err instanceof MskIamTokenError, String(err));
  assert.equal(
    err.message,
    "Cannot make the MSK IAM token for eu-west-1: Cannot get AWS credentials from the " +
      "container endpoint: HTTP 500",
  );
  assert.equal((err.cause as Error).name, "CredentialsError");
  status = 200;
  const token = await p.token();
  assert.equal(decode(token).searchParams.get("X-Amz-Security-Token"), "t");
  assert.equal(p.asked(), 2, "the failure was not cached");
});

Deno.test("createMskIamTokenProvider() lists the usual sources when another credentials function fails", async () => {
  const p = fakeProvider(() => Promise.reject(new TypeError("no profile")));
  const err = await p.token().catch((e) => e);
  assert.ok(err instanceof MskIamTokenError);
  assert.equal(
    err.message,
    "Cannot make the MSK IAM token for eu-west-1: Cannot get AWS credentials " +
      "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the container credentials endpoint, or " +
      "EC2 instance metadata): no profile",
  );
});

Deno.test("createMskIamTokenProvider() keeps a still-valid token when a renewal fails, until its last minute", async () => {
  let fail = false;
  const p = fakeProvider(() =>
    fail ? Promise.reject(new TypeError("endpoint down")) : Promise.resolve(KEYS)
  );
  const first = await p.token();
  fail = true;
  p.clock.now = T0.getTime() + 11 * MINUTE; // 4 minutes left
  assert.equal(await p.token(), first);
  const warning = p.lines.find((l) => l.level === "warn");
  assert.equal(
    warning?.msg,
    "cannot renew the MSK IAM token; using the current one until it nears its end",
  );
  assert.match(String(warning?.error), /endpoint down$/);
  p.clock.now = Date.parse("2026-03-14T15:23:26.001Z"); // under a minute left
  const err = await p.token().catch((e) => e);
  assert.ok(err instanceof MskIamTokenError);
  assert.equal(p.asked(), 3, "each call past the renewal point tries again");
});

Deno.test("createMskIamTokenProvider() refuses a bad region at once", () => {
  assert.throws(
    () => createMskIamTokenProvider({ region: "x", credentials: () => Promise.resolve(KEYS) }),
    MskIamTokenError,
  );
});
