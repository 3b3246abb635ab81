import assert from "node:assert/strict";
import {
  createCredentialChain,
  CredentialsError,
  type CredentialSettings,
  credentialSource,
} from "./credentials.ts";

/** A fake endpoint: answers by "METHOD url", records each request. */
function fakeFetch(routes: Record<string, () => Response>) {
  const calls: { method: string; url: string; headers: Record<string, string> }[] = [];
  const fetchFn = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? "GET";
    const url = String(input);
    calls.push({ method, url, headers: Object.fromEntries(new Headers(init?.headers)) });
    const route = routes[`${method} ${url}`];
    return Promise.resolve(route ? route() : new Response("not found", { status: 404 }));
  };
  return { fetch: fetchFn as typeof fetch, calls };
}

const json = (value: unknown) => () => Response.json(value);
const EXPIRES = "2026-01-01T06:00:00Z";
const T0 = Date.parse("2026-01-01T00:00:00Z");
const ROLE_CREDENTIALS = {
  AccessKeyId: "ASIAEXAMPLE",
  SecretAccessKey: "secret-from-endpoint",
  Token: "session-token",
  Expiration: EXPIRES,
};

Deno.test("credentialSource() picks keys, then a container endpoint, then instance metadata", () => {
  const keys = { AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s" };
  const container = { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/x" };
  assert.equal(credentialSource({ ...keys, ...container }), "environment");
  assert.equal(credentialSource(container), "container");
  assert.equal(credentialSource({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "https://a" }), "container");
  assert.equal(credentialSource({}), "instance");
  assert.equal(credentialSource({ AWS_EC2_METADATA_DISABLED: true }), undefined);
});

Deno.test("createCredentialChain() refuses to start without any source", () => {
  assert.throws(
    () => createCredentialChain({ AWS_EC2_METADATA_DISABLED: true }),
    (err: unknown) => err instanceof CredentialsError && /AWS_ACCESS_KEY_ID/.test(err.message),
  );
});

Deno.test("createCredentialChain() gives the environment's keys without a request", async () => {
  const { fetch, calls } = fakeFetch({});
  const chain = createCredentialChain({
    AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret",
    AWS_SESSION_TOKEN: "token",
  }, { fetch });
  assert.equal(chain.source, "environment");
  assert.deepEqual(await chain.get(), {
    accessKeyId: "AKIAEXAMPLE",
    secretAccessKey: "secret",
    sessionToken: "token",
  });
  assert.equal(calls.length, 0);
});

Deno.test("createCredentialChain() asks the ECS endpoint with the token file, caches until 5 minutes before expiry", async () => {
  let now = T0;
  const { fetch, calls } = fakeFetch({
    "GET http://169.254.170.2/v2/credentials/abc": json(ROLE_CREDENTIALS),
  });
  let token = "token-1";
  const chain = createCredentialChain({
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/abc",
    AWS_CONTAINER_AUTHORIZATION_TOKEN: "ignored when a token file is set",
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/var/run/token",
  }, { fetch, now: () => now, readTextFile: (path) => Promise.resolve(`${path}:${token}\n`) });
  const [a, b] = await Promise.all([chain.get(), chain.get()]);
  assert.deepEqual(a, {
    accessKeyId: "ASIAEXAMPLE",
    secretAccessKey: "secret-from-endpoint",
    sessionToken: "session-token",
    expiration: new Date(EXPIRES),
  });
  assert.equal(b, a, "concurrent callers share one fetch");
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.headers.authorization, "/var/run/token:token-1");

  now = Date.parse(EXPIRES) - 5 * 60_000 - 1;
  await chain.get();
  assert.equal(calls.length, 1, "still fresh");
  now += 2;
  token = "token-2";
  await chain.get();
  assert.equal(calls.length, 2, "refreshed within five minutes of expiry");
  assert.equal(calls[1]!.headers.authorization, "/var/run/token:token-2", "token file re-read");

  chain.invalidate();
  await chain.get();
  assert.equal(calls.length, 3, "invalidate() forces a new fetch");
});

Deno.test("createCredentialChain() takes a full container URI over HTTPS or to an agent, with the token", async () => {
  const { fetch, calls } = fakeFetch({
    "GET http://169.254.170.23/v1/credentials": json(ROLE_CREDENTIALS),
  });
  const chain = createCredentialChain({
    AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/v1/credentials",
    AWS_CONTAINER_AUTHORIZATION_TOKEN: "Bearer abc",
  }, { fetch });
  assert.equal((await chain.get()).accessKeyId, "ASIAEXAMPLE");
  assert.equal(calls[0]!.headers.authorization, "Bearer abc");
  assert.doesNotThrow(() =>
    createCredentialChain({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "https://creds.example/x" })
  );
  assert.throws(
    () => createCredentialChain({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://10.0.0.5/creds" }),
    (err: unknown) => err instanceof CredentialsError && /not 10\.0\.0\.5/.test(err.message),
  );
});

Deno.test("createCredentialChain() uses IMDSv2: a session token, the role, then its credentials", async () => {
  const base = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";
  const { fetch, calls } = fakeFetch({
    "PUT http://169.254.169.254/latest/api/token": () => new Response("imds-token"),
    [`GET ${base}`]: () => new Response("worker-role\n"),
    [`GET ${base}worker-role`]: json({ Code: "Success", ...ROLE_CREDENTIALS }),
  });
  const chain = createCredentialChain({}, { fetch });
  assert.equal(chain.source, "instance");
  assert.equal((await chain.get()).sessionToken, "session-token");
  assert.deepEqual(calls.map((c) => `${c.method} ${c.url}`), [
    "PUT http://169.254.169.254/latest/api/token",
    `GET ${base}`,
    `GET ${base}worker-role`,
  ]);
  assert.equal(calls[0]!.headers["x-aws-ec2-metadata-token-ttl-seconds"], "21600");
  assert.equal(calls[1]!.headers["x-aws-ec2-metadata-token"], "imds-token");
  assert.equal(calls[2]!.headers["x-aws-ec2-metadata-token"], "imds-token");
});

Deno.test("createCredentialChain() errors name the source and status, never a secret", async () => {
  const settings: CredentialSettings = { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/creds" };
  const cases: [() => Response, RegExp][] = [
    [() => new Response("denied", { status: 403 }), /container endpoint: HTTP 403$/],
    [() => new Response("<html>"), /container endpoint: the answer is not JSON$/],
    [
      json({ SecretAccessKey: "leak-me-not", Token: "leak-me-not" }),
      /container endpoint: the answer has no AccessKeyId and SecretAccessKey$/,
    ],
    [json({ ...ROLE_CREDENTIALS, Expiration: "soon" }), /bad Expiration$/],
  ];
  for (const [answer, message] of cases) {
    const { fetch } = fakeFetch({ "GET http://169.254.170.2/creds": answer });
    const err = await createCredentialChain(settings, { fetch }).get().catch((e) => e);
    assert.ok(err instanceof CredentialsError, String(err));
    assert.match(err.message, message);
    assert.ok(!err.message.includes("leak-me-not"));
  }
  const refused = (() => Promise.reject(new TypeError("connection refused"))) as typeof fetch;
  const err = await createCredentialChain({}, { fetch: refused }).get().catch((e) => e);
  assert.ok(err instanceof CredentialsError);
  assert.equal(
    err.message,
    "Cannot get AWS credentials from EC2 instance metadata: connection refused",
  );
});

Deno.test("createCredentialChain() refuses an instance answer whose Code is not Success", async () => {
  const base = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";
  const { fetch } = fakeFetch({
    "PUT http://169.254.169.254/latest/api/token": () => new Response("t"),
    [`GET ${base}`]: () => new Response("role"),
    [`GET ${base}role`]: json({ Code: "AssumeRoleUnauthorizedAccess" }),
  });
  const err = await createCredentialChain({}, { fetch }).get().catch((e) => e);
  assert.ok(err instanceof CredentialsError);
  assert.match(err.message, /Code AssumeRoleUnauthorizedAccess$/);
});
