import assert from "node:assert/strict";
import { StackError } from "./_process.ts";
import { ensureMoto, stagingPolicy } from "./s3.ts";
import { withEnv } from "../testing/with_env.ts";

Deno.test("ensureMoto() says what to install when Python is missing, and leaves no half-made venv", async () => {
  const cache = await Deno.makeTempDir();
  try {
    const err = await withEnv(
      { STACK_CACHE_DIR: cache, PYTHON: "/nonexistent/python3" },
      () => ensureMoto().catch((e) => e),
    );
    assert.ok(err instanceof StackError, String(err));
    assert.match(
      err.message,
      /^Cannot install moto \(the tests' S3 server\): \/nonexistent\/python3 is not installed\. Install Python 3 with venv and pip/,
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(cache)), [], "nothing left in the cache");
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("stagingPolicy() allows put and delete under the prefix only", () => {
  assert.deepEqual(stagingPolicy("bkt", "staging/"), {
    Version: "2012-10-17",
    Statement: [{
      Sid: "WriteStagedFiles",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:DeleteObject"],
      Resource: "arn:aws:s3:::bkt/staging/*",
    }],
  });
});
