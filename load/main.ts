/**
 * `deno task load`: POSTs signed synthetic users to the ingest's webhook.
 *
 * ```sh
 * WEBHOOK_SECRET=whsec_… deno task load --rate 100 --count 1000
 * deno task load --url http://127.0.0.1:8080/v1/users --batch 100 --concurrency 8 --json
 * ```
 *
 * Flags: `--url` (default http://127.0.0.1:8080/v1/users), `--rate` events/s (0 = as fast as
 * possible, default 100), `--count` events (default 1000), `--duration` seconds (upper bound,
 * default 60), `--batch` users per request (default 1), `--concurrency` (default 16),
 * `--ndjson`, `--warmup` seconds, `--seed`, `--schema-version` of the users (default the newest,
 * 2: with `nat` and `cell`; 1 sends users without them), `--json` (print the summary as one
 * JSON line).
 * The secret comes from `WEBHOOK_SECRET` (unsigned requests when it is unset). The task may
 * only reach the loopback interface.
 */
import { parseCommandLine } from "../shared/command_line.ts";
import { SCHEMA_VERSION, SCHEMA_VERSIONS } from "../shared/event.ts";
import { runLoad } from "./run_load.ts";

const USAGE =
  "usage: deno task load [--url URL] [--rate EVENTS_PER_S] [--count N] [--duration S]\n" +
  "                      [--batch N] [--concurrency N] [--ndjson] [--warmup S] [--seed N]\n" +
  `                      [--schema-version ${SCHEMA_VERSIONS.join("|")}] [--json]`;

const { values } = parseCommandLine({
  args: Deno.args,
  options: {
    url: { type: "string", default: "http://127.0.0.1:8080/v1/users" },
    rate: { type: "string", default: "100" },
    count: { type: "string", default: "1000" },
    duration: { type: "string", default: "60" },
    batch: { type: "string", default: "1" },
    concurrency: { type: "string", default: "16" },
    warmup: { type: "string", default: "0" },
    seed: { type: "string", default: "1" },
    "schema-version": { type: "string", default: String(SCHEMA_VERSION) },
    ndjson: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
}, USAGE);

const write = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));

if (values.help) {
  write(`${USAGE}\nSigns with WEBHOOK_SECRET when it is set.`);
  Deno.exit(0);
}

const number = (name: string, text: string, min: number, max: number): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) {
    Deno.stderr.writeSync(
      new TextEncoder().encode(`Cannot parse --${name}: expected ${min}..${max}, got "${text}"\n`),
    );
    Deno.exit(2);
  }
  return n;
};

const schemaVersion = SCHEMA_VERSIONS.find((v) => String(v) === values["schema-version"]);
if (schemaVersion === undefined) {
  Deno.stderr.writeSync(
    new TextEncoder().encode(
      `Cannot parse --schema-version: expected ${SCHEMA_VERSIONS.join(" or ")}, got "${
        values["schema-version"]
      }"\n`,
    ),
  );
  Deno.exit(2);
}

const summary = await runLoad({
  url: values.url,
  secret: Deno.env.get("WEBHOOK_SECRET") || undefined,
  rate: number("rate", values.rate, 0, 10_000_000),
  count: number("count", values.count, 1, 100_000_000),
  durationSeconds: number("duration", values.duration, 1, 3600),
  batch: number("batch", values.batch, 1, 100_000),
  concurrency: number("concurrency", values.concurrency, 1, 10_000),
  warmupSeconds: number("warmup", values.warmup, 0, 3600),
  seed: number("seed", values.seed, 0, 2 ** 32),
  ndjson: values.ndjson,
  schemaVersion,
});

if (values.json) {
  write(JSON.stringify(summary));
} else {
  const l = summary.latencyMs;
  write(
    `${summary.accepted} of ${summary.events} events accepted in ${summary.seconds} s ` +
      `(${summary.eventsPerSecond} events/s, ${summary.requestsPerSecond} requests/s)\n` +
      `latency ms: p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  max ${l.max}\n` +
      `answers: ${JSON.stringify(summary.statuses)}`,
  );
}
Deno.exit(summary.accepted === summary.events ? 0 : 1);
