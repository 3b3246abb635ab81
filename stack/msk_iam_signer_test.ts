import assert from "node:assert/strict";
import { StackError } from "./_process.ts";
import { awsMskIamToken, ensureMskIamSigner } from "./msk_iam_signer.ts";
import { withEnv } from "../testing/with_env.ts";

Deno.test("ensureMskIamSigner() says what to install when npm is missing, and leaves nothing half-made", async () => {
  const cache = await Deno.makeTempDir();
  try {
    const err = await withEnv(
      { STACK_CACHE_DIR: cache, NPM: "/nonexistent/npm" },
      () => ensureMskIamSigner().catch((e) => e),
    );
    assert.ok(err instanceof StackError, String(err));
    assert.match(
      err.message,
      /^Cannot install aws-msk-iam-sasl-signer-js \(the MSK IAM token's oracle\): \/nonexistent\/npm is not installed\. Install Node\.js 18 or later with npm/,
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(cache)), [], "nothing left in the cache");
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("awsMskIamToken() refuses to run in a unit run", async () => {
  const err = await withEnv(
    { USER_PIPELINE_UNIT: "1" },
    () =>
      awsMskIamToken({
        region: "eu-west-1",
        credentials: { accessKeyId: "AKID", secretAccessKey: "secret" },
        now: new Date(0),
      }).catch((e) => e),
  );
  assert.ok(err instanceof Error);
  assert.equal(
    err.message,
    "awsMskIamToken() in a unit run: a test that needs Node and npm is named *_stack_test.ts",
  );
});
