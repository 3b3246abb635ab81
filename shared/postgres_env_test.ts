import assert from "node:assert/strict";
import { postgresEnvProblems } from "./postgres_env.ts";

Deno.test("postgresEnvProblems() names each numeric PG variable postgres.js would misread", () => {
  const vars: Record<string, string> = {
    PGMAX_PIPELINE: "-1",
    PGKEEP_ALIVE: "abc",
    PGPORT: "0x10",
    PGBACKOFF: " ",
    PGIDLE_TIMEOUT: "",
    PGMAX_LIFETIME: "600",
  };
  const problems = postgresEnvProblems((k) => vars[k]);
  assert.deepEqual(problems.map((p) => p.variable), [
    "PGPORT",
    "PGMAX_PIPELINE",
    "PGBACKOFF",
    "PGKEEP_ALIVE",
  ]);
  assert.equal(
    problems.find((p) => p.variable === "PGMAX_PIPELINE")?.message,
    'expected a whole number from 1 to 100000 (postgres.js reads it), got "-1"',
  );
  assert.deepEqual(postgresEnvProblems(() => undefined), []);
});
