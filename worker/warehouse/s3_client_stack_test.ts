import assert from "node:assert/strict";
import { s3Server } from "../../stack/harness.ts";
import { createCredentialChain, type CredentialProvider } from "../../shared/aws/credentials.ts";
import { createS3Client, S3Error } from "./s3_client.ts";

const keys = (accessKeyId: string, secretAccessKey: string): CredentialProvider =>
  createCredentialChain({ AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey });

/** A fetch that records the signed request and answers `answer`. */
function recordingFetch(answer: () => Response) {
  const requests: Request[] = [];
  const fetchFn = (input: string | URL | Request) => {
    requests.push(input as Request);
    return Promise.resolve(answer());
  };
  return { fetch: fetchFn as typeof fetch, requests };
}

Deno.test("createS3Client() against a real S3 server: signed put and delete under the staging prefix, refusals as S3Error", async (t) => {
  const s3 = await s3Server({ bucket: "staging-client-test", prefix: "staging/" });
  try {
    const client = createS3Client(
      { bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint },
      { credentials: keys(s3.worker.accessKeyId, s3.worker.secretAccessKey) },
    );
    const body = new Uint8Array([0x1f, 0x8b, 0, 255, 10, 13, 44]);

    await t.step("put uploads the exact bytes, delete removes them", async () => {
      await client.put("staging/a/part-00000.csv.gz", body, "application/gzip");
      assert.deepEqual(await s3.get("staging/a/part-00000.csv.gz"), body);
      await client.delete("staging/a/part-00000.csv.gz");
      assert.deepEqual(await s3.list("staging/a/"), []);
      await client.delete("staging/a/never-there.csv.gz"); // no error, as in S3
    });

    await t.step("a wrong secret is SignatureDoesNotMatch", async () => {
      const wrong = createS3Client(
        { bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint },
        { credentials: keys(s3.worker.accessKeyId, `${s3.worker.secretAccessKey}x`) },
      );
      const err = await wrong.put("staging/b.csv.gz", body, "application/gzip").catch((e) => e);
      assert.ok(err instanceof S3Error, String(err));
      assert.equal(err.status, 403);
      assert.equal(err.s3Code, "SignatureDoesNotMatch");
      assert.ok(!err.message.includes(s3.worker.secretAccessKey), "no secret in the message");
    });

    await t.step("the staging policy allows nothing outside the prefix", async () => {
      const err = await client.put("elsewhere/c.csv.gz", body, "application/gzip").catch((e) => e);
      assert.ok(err instanceof S3Error, String(err));
      assert.equal(err.status, 403);
      assert.equal(err.s3Code, "AccessDenied");
      assert.match(
        err.message,
        /^Cannot upload s3:\/\/staging-client-test\/elsewhere\/c\.csv\.gz: HTTP 403 AccessDenied/,
      );
    });
  } finally {
    await s3.stop();
  }
});

Deno.test("createS3Client() signs the payload and addresses AWS virtual-hosted, dotted buckets path-style", async () => {
  const { fetch, requests } = recordingFetch(() => new Response(null, { status: 200 }));
  const credentials = keys("AKIAEXAMPLE", "secret");
  const body = new TextEncoder().encode("a,b\n");
  await createS3Client({ bucket: "bkt", region: "eu-west-1" }, { credentials, fetch })
    .put("staging/x/part-00000.csv.gz", body, "application/gzip");
  await createS3Client({ bucket: "my.bkt", region: "eu-west-1" }, { credentials, fetch })
    .delete("staging/y");
  const [put, del] = requests;
  assert.equal(put!.url, "https://bkt.s3.eu-west-1.amazonaws.com/staging/x/part-00000.csv.gz");
  assert.equal(put!.method, "PUT");
  assert.equal(put!.headers.get("content-type"), "application/gzip");
  const sha = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", body)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  assert.equal(put!.headers.get("x-amz-content-sha256"), sha, "signed payload");
  assert.match(
    put!.headers.get("authorization") ?? "",
    /^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
  );
  assert.deepEqual(new Uint8Array(await put!.arrayBuffer()), body);
  assert.equal(del!.url, "https://s3.eu-west-1.amazonaws.com/my.bkt/staging/y");
  assert.equal(del!.method, "DELETE");
});

Deno.test("createS3Client() sends the session token and drops credentials S3 calls expired", async () => {
  const { fetch, requests } = recordingFetch(() =>
    new Response("<Error><Code>ExpiredToken</Code><Message>The token expired</Message></Error>", {
      status: 400,
    })
  );
  let invalidated = 0;
  const credentials: CredentialProvider = {
    source: "container",
    get: () => Promise.resolve({ accessKeyId: "ASIA", secretAccessKey: "s", sessionToken: "tok" }),
    invalidate: () => void invalidated++,
  };
  const client = createS3Client({ bucket: "bkt", region: "us-east-1", endpoint: "http://s3" }, {
    credentials,
    fetch,
  });
  const err = await client.delete("k").catch((e) => e);
  assert.ok(err instanceof S3Error);
  assert.equal(err.message, "Cannot delete s3://bkt/k: HTTP 400 ExpiredToken: The token expired");
  assert.equal(invalidated, 1);
  assert.equal(requests[0]!.url, "http://s3/bkt/k", "an endpoint is path-style");
  assert.equal(requests[0]!.headers.get("x-amz-security-token"), "tok");
});

Deno.test("createS3Client() turns a network failure into S3Error with status 0", async () => {
  const refused = (() => Promise.reject(new TypeError("connection refused"))) as typeof fetch;
  const client = createS3Client({ bucket: "bkt", region: "us-east-1" }, {
    credentials: keys("AKIA", "s"),
    fetch: refused,
  });
  const err = await client.delete("k").catch((e) => e);
  assert.ok(err instanceof S3Error);
  assert.equal(err.status, 0);
  assert.equal(err.message, "Cannot delete s3://bkt/k: connection refused");
});
