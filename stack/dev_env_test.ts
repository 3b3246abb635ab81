import assert from "node:assert/strict";
import {
  consoleEnv,
  devBanner,
  devEnv,
  newWebhookSecret,
  parseEnvFile,
  programEnv,
} from "./dev_env.ts";
import { parseSecret } from "../ingest/http/webhook_signature.ts";

Deno.test("devEnv() binds every program to 127.0.0.1 and signs with the dev secret unless the environment says otherwise", () => {
  const stack = { KAFKA_BROKERS: "127.0.0.1:1", WAREHOUSE_URL: "postgres://x" };
  assert.deepEqual(devEnv(stack, "whsec_dev", {}), {
    ...stack,
    INGEST_HOST: "127.0.0.1",
    WORKER_HOSTNAME: "127.0.0.1",
    CONSOLE_HOST: "127.0.0.1",
    WEBHOOK_SECRET: "whsec_dev",
  });
  const mine = devEnv(stack, "whsec_dev", { INGEST_HOST: "0.0.0.0", WEBHOOK_SECRET: "whsec_mine" });
  assert.equal(mine.INGEST_HOST, "0.0.0.0");
  assert.equal(mine.WEBHOOK_SECRET, "whsec_mine");
  assert.equal(mine.INGEST_ALLOW_UNSIGNED, undefined, "signatures stay required");
});

Deno.test("newWebhookSecret() makes a secret the ingest parses, different each time", () => {
  const a = newWebhookSecret();
  assert.equal(parseSecret(a).length, 32);
  assert.notEqual(a, newWebhookSecret());
});

Deno.test("parseEnvFile() reads KEY=value lines and skips comments", () => {
  assert.deepEqual(parseEnvFile("# note\nA=1\nB=x=y\n\nnot a line\n"), { A: "1", B: "x=y" });
});

Deno.test("devBanner() says where the secret is kept, never the secret, and says so when signing is off", () => {
  const info = {
    ingestHost: "127.0.0.1",
    ingestPort: 8080,
    workerHost: "127.0.0.1",
    workerPort: 9090,
    secretFile: ".stack/local/dev.env",
    secretFromEnvironment: false,
    unsigned: false,
    warehouseUrl: "postgres://postgres@127.0.0.1:5432/user_data",
    stackName: "local",
    consoleUrl: "http://127.0.0.1:8070/",
  };
  const signed = devBanner(info).join("\n");
  assert.match(signed, /^console: http:\/\/127\.0\.0\.1:8070\/$/m);
  assert.match(signed, /the secret is WEBHOOK_SECRET in \.stack\/local\/dev\.env/);
  assert.doesNotMatch(signed, /whsec_/, "no secret in the banner");
  assert.match(signed, /"deno task stack down" stops them/);
  const mine = devBanner({ ...info, secretFromEnvironment: true }).join("\n");
  assert.match(mine, /with the WEBHOOK_SECRET of your environment/);
  assert.doesNotMatch(mine, /dev\.env/, "not the file dev did not use");
  const unsigned = devBanner({ ...info, unsigned: true, stackName: "two" }).join("\n");
  assert.match(unsigned, /wrong signature is still refused/);
  assert.match(unsigned, /"deno task stack down --name two"/);
});

Deno.test("programEnv() names each program's spans unless OTEL_SERVICE_NAME is set", () => {
  assert.equal(programEnv("worker", { A: "1" }).OTEL_SERVICE_NAME, "user-pipeline-worker");
  assert.equal(programEnv("ingest", { A: "1" }).A, "1");
  assert.equal(programEnv("ingest", { OTEL_SERVICE_NAME: "mine" }).OTEL_SERVICE_NAME, "mine");
});

Deno.test("consoleEnv() points the console at the ingest and worker dev started, unless told otherwise", () => {
  const env = { KAFKA_BROKERS: "127.0.0.1:1", WAREHOUSE_URL: "postgres://x" };
  const ingest = { host: "127.0.0.1", port: 8080 };
  const worker = { host: "127.0.0.1", port: 9090 };
  assert.deepEqual(consoleEnv(env, ingest, worker), {
    ...env,
    CONSOLE_INGEST_URLS: "http://127.0.0.1:8080",
    CONSOLE_WORKER_URLS: "http://127.0.0.1:9090",
    CONSOLE_WAREHOUSE_URL: "postgres://x",
  });
  const mine = consoleEnv({ ...env, CONSOLE_WORKER_URLS: "http://w:1" }, ingest, worker);
  assert.equal(mine.CONSOLE_WORKER_URLS, "http://w:1");
});
