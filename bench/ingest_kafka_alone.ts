/**
 * The produce ceiling of `deno task bench:ingest`: the Kafka client alone (our shared
 * `@platformatic/kafka` producer, idempotent, acks=all) producing the records the ingest would
 * produce for batches of synthetic users (same envelope, key and `traceparent` header), as
 * fast as it is acknowledged, in sends of `--batch-messages` records with `--in-flight` sends
 * at once (the ingest's batcher: 500 records, one send in flight).
 *
 * Records are encoded before the clock starts: only the client's work is measured. Prints one
 * JSON line to stdout after `--duration` seconds: `{ events, seconds, eventsPerSecond }`,
 * counting records acknowledged after `--warmup` seconds.
 *
 * `deno run --allow-net --allow-env --allow-read bench/ingest_kafka_alone.ts --topic T`
 * (`KAFKA_BROKERS` from the environment).
 */
import { parseArgs } from "node:util";
import { encodeEvent, newEvent, parseUser } from "../shared/event.ts";
import { createLogger } from "../shared/logger.ts";
import { createKafkaProducer } from "../shared/kafka/producer.ts";
import { kafkaConnection } from "../shared/kafka/settings.ts";
import { syntheticUser } from "../load/synthetic_user.ts";
import { createRng } from "../testing/rng.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    topic: { type: "string" },
    duration: { type: "string", default: "12" },
    warmup: { type: "string", default: "3" },
    "batch-messages": { type: "string", default: "500" },
    "in-flight": { type: "string", default: "1" },
  },
});
if (!values.topic) throw new Error("Cannot run: --topic is required");
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const batchMessages = Number(values["batch-messages"]);
const inFlight = Number(values["in-flight"]);

const random = createRng(7).next;
const headers = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
const acceptedAt = new Date();
const records = Array.from({ length: 20_000 }, () => {
  const user = parseUser(syntheticUser(random));
  return { key: user.id, value: encodeEvent(newEvent(user, "webhook", acceptedAt)), headers };
});
const batches = Array.from(
  { length: records.length / batchMessages },
  (_, i) => records.slice(i * batchMessages, (i + 1) * batchMessages),
);

const connection = await kafkaConnection({
  KAFKA_BROKERS: (Deno.env.get("KAFKA_BROKERS") ?? "127.0.0.1:9092").split(","),
  KAFKA_SSL: false,
}, "bench-kafka-alone");
const producer = createKafkaProducer(connection, { logger: createLogger({ level: "warn" }) });
await producer.connect([values.topic]);

const started = performance.now();
const warmupEnd = started + warmup * 1000;
const end = started + (duration + warmup) * 1000;
let measuredFrom = Number.NaN;
let lastAck = started;
let events = 0;
let next = 0;
const sender = async () => {
  while (performance.now() < end) {
    const batch = batches[next++ % batches.length]!;
    const t0 = performance.now();
    await producer.send(values.topic!, batch);
    if (t0 >= warmupEnd) {
      if (Number.isNaN(measuredFrom)) measuredFrom = t0;
      events += batch.length;
      lastAck = performance.now();
    }
  }
};
await Promise.all(Array.from({ length: inFlight }, sender));
await producer.close();
const seconds = (lastAck - measuredFrom) / 1000;
Deno.stdout.writeSync(
  new TextEncoder().encode(
    JSON.stringify({
      events,
      seconds: Math.round(seconds * 100) / 100,
      eventsPerSecond: seconds > 0 ? Math.round(events / seconds) : 0,
    }) + "\n",
  ),
);
