/**
 * `worker/main.ts` with the `worker` task's flags: the permissions it declares and the exits
 * it promises, for what the S3 staging added.
 */
import assert from "node:assert/strict";
import { startProgram } from "../testing/program.ts";
import { taskArgs } from "../stack/programs.ts";
import { workerConfigSchema } from "./config.ts";

Deno.test("the worker task's --allow-env lists every variable the worker reads", () => {
  const flags = taskArgs("worker");
  const allowEnv = flags.find((f) => f.startsWith("--allow-env="))?.slice(12).split(",") ?? [];
  for (const key of Object.keys(workerConfigSchema.shape)) {
    assert.ok(allowEnv.includes(key), `--allow-env includes ${key}`);
  }
  assert.ok(!flags.includes("-A") && !flags.includes("--allow-all"));
});

Deno.test("the worker exits 2 and names the variables when S3 staging is set up wrongly", async () => {
  const worker = await startProgram("worker", {
    KAFKA_BROKERS: "127.0.0.1:9",
    WAREHOUSE_URL: "postgres://u@127.0.0.1:9/user_data",
    WAREHOUSE_S3_BUCKET: "user-pipeline-staging-x",
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "do-not-log-me",
  }, { listening: false });
  const status = await worker.exited;
  assert.equal(status.code, 2);
  const line = worker.logs.find((l) => l.msg === "bad configuration");
  assert.ok(line, JSON.stringify(worker.logs));
  assert.deepEqual(
    (line.problems as { variable: string }[]).map((p) => p.variable).sort(),
    ["AWS_REGION", "WAREHOUSE_S3_BUCKET"],
  );
  assert.ok(!JSON.stringify(worker.logs).includes("do-not-log-me"), "no secret in the logs");
});
