import assert from "node:assert/strict";
import { classifyWriteError } from "./write_error.ts";

Deno.test("classifyWriteError() isolates data and constraint errors, retries the rest", () => {
  assert.equal(classifyWriteError({ code: "22001" }), "isolate");
  assert.equal(classifyWriteError({ code: "23514" }), "isolate");
  assert.equal(classifyWriteError({ code: "23502" }), "isolate");
  assert.equal(classifyWriteError({ code: "23505" }), "retry", "a concurrent insert");
  assert.equal(classifyWriteError({ code: "40001" }), "retry");
  assert.equal(classifyWriteError({ code: "57P01" }), "retry");
  assert.equal(classifyWriteError({ code: "ECONNREFUSED" }), "retry");
  assert.equal(classifyWriteError({ code: "CONNECTION_CLOSED" }), "retry");
  assert.equal(
    classifyWriteError({ code: "XX000", message: "1023 Serializable isolation violation" }),
    "retry",
  );
  assert.equal(classifyWriteError(new Error("unknown")), "retry");
});

Deno.test("classifyWriteError() isolates Redshift's COPY load errors, retries its S3 errors", () => {
  const load = "Load into table 'users_stage_0123456789ab' failed. " +
    "Check 'sys_load_error_detail' system table for details.";
  assert.equal(classifyWriteError({ code: "XX000", message: load }), "isolate");
  assert.equal(
    classifyWriteError({
      code: "XX000",
      message: "S3ServiceException:Access Denied,Status 403,Error AccessDenied",
    }),
    "retry",
    "the role cannot read the bucket: not about the rows",
  );
  assert.equal(classifyWriteError({ message: load }), "retry", "only with Redshift's XX000");
});
