import assert from "node:assert/strict";
import { DeadLetterError } from "./batch/dead_letter.ts";
import { withWriteDeadline } from "./warehouse/write_deadline.ts";
import { toWriteError, WriteError } from "./warehouse/write_error.ts";
import { writeProblem } from "./write_problem.ts";

/** An error as postgres.js throws it: a class, a SQLSTATE, a message that may quote values. */
class PostgresError extends Error {
  override name = "PostgresError";
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

Deno.test("writeProblem() names the write deadline when a write passed it", async () => {
  // As in `postgres-slow`: a table lock holds the write past WAREHOUSE_WRITE_TIMEOUT_MS.
  const err = await withWriteDeadline(1, () => new Promise<never>(() => {}), () => {})
    .catch((e) => e);
  assert.equal(
    writeProblem(err, 30_000),
    "the last warehouse write failed: did not finish within 30000 ms (WAREHOUSE_WRITE_TIMEOUT_MS)",
  );
});

Deno.test("writeProblem() gives a database error's class and SQLSTATE, not its message", () => {
  const err = toWriteError(
    new PostgresError('invalid input syntax for type timestamp: "alice@example.com"', "22007"),
  );
  const problem = writeProblem(err, 30_000);
  assert.equal(problem, "the last warehouse write failed: PostgresError, SQLSTATE 22007");
  assert.doesNotMatch(problem, /alice/);
  assert.equal(
    writeProblem(toWriteError(new PostgresError("terminating connection", "57P01")), 30_000),
    "the last warehouse write failed: PostgresError, SQLSTATE 57P01",
  );
});

Deno.test("writeProblem() gives a client error's code, not its message", () => {
  const refused = Object.assign(
    new Error("connect ECONNREFUSED postgres://worker:s3cret@db:5432"),
    { code: "ECONNREFUSED" },
  );
  const problem = writeProblem(toWriteError(refused), 30_000);
  assert.equal(problem, "the last warehouse write failed: Error, code ECONNREFUSED");
  assert.doesNotMatch(problem, /s3cret/);
  assert.equal(
    writeProblem(new WriteError("S3 said no", "retry", "AccessDenied"), 30_000),
    "the last warehouse write failed: WriteError, code AccessDenied",
  );
  assert.equal(
    writeProblem(new WriteError("odd", "retry", "not a code: worker:s3cret"), 30_000),
    "the last warehouse write failed: WriteError",
  );
});

Deno.test("writeProblem() tells a dead-letter topic that did not acknowledge from the warehouse", () => {
  const cause = Object.assign(new Error("Request timed out"), { code: "PLT_KFK_TIMEOUT" });
  assert.equal(
    writeProblem(new DeadLetterError("Cannot write 3 dead letters", { cause }), 30_000),
    "the last dead-letter write failed: the dead-letter topic did not acknowledge " +
      "(Error, code PLT_KFK_TIMEOUT)",
  );
});

Deno.test("writeProblem() names an unexpected error's class only", () => {
  assert.equal(
    writeProblem(new TypeError("Cannot read properties of undefined (reading 'email')"), 30_000),
    "the last write failed: unexpected TypeError",
  );
  assert.equal(writeProblem("a string", 30_000), "the last write failed: unexpected error");
});
