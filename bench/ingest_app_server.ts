/**
 * The ingest's whole HTTP app with Kafka replaced by a producer that resolves at once: what
 * the request path costs before Kafka, for profiling (`deno task bench:ingest --only
 * app-no-kafka --profile DIR`, or `deno run --cpu-prof-dir=DIR …` by hand) and as a ceiling
 * between the parts and the real ingest.
 *
 * `deno run --allow-net=127.0.0.1 --allow-env=WEBHOOK_SECRET bench/ingest_app_server.ts`;
 * logs `{"msg":"listening","port":N}` to stderr like the ingest, stops on SIGTERM or after
 * `--seconds`.
 */
import { parseArgs } from "node:util";
import { createIngestApp } from "../ingest/http/app.ts";
import { loadIngestConfig } from "../ingest/config.ts";
import { createConnectionDrain } from "../fixes/connection_drain.ts";
import { shuttingDownResponse } from "../ingest/http/shutting_down_response.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { seconds: { type: "string", default: "600" } },
});
const env: Record<string, string | undefined> = {
  KAFKA_BROKERS: "127.0.0.1:9",
  WEBHOOK_SECRET: Deno.env.get("WEBHOOK_SECRET"),
  PULL_ENABLED: "false",
};
const config = loadIngestConfig((key) => env[key]);
const app = createIngestApp(config, {
  producer: { send: () => Promise.resolve() },
  framedBodies: true,
});
const connections = createConnectionDrain(app.handler, {
  maxWaitMs: 1000,
  refuse: shuttingDownResponse,
});
const encoder = new TextEncoder();
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) =>
    Deno.stderr.writeSync(encoder.encode(JSON.stringify({ msg: "listening", port }) + "\n")),
}, connections.handler);
const stop = async () => {
  await server.shutdown();
  await app.close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", () => void stop());
setTimeout(() => void stop(), Number(values.seconds) * 1000);
