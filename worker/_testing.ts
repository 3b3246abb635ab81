/**
 * Helpers for the worker's tests: valid users, the worker as a subprocess with its log lines,
 * and polling with a deadline. Not used by the worker itself.
 */
import { Buffer } from "node:buffer";
import type { Admin, Kafka, Producer } from "kafkajs";
import { createKafka } from "../shared/kafka.ts";
export { testEvent, testUser, toMessage } from "./_test_events.ts";
import { silentLogger } from "../shared/logger.ts";
import postgres from "postgres";
import { createTopicsAndWait, uniqueName } from "../stack/harness.ts";
import { taskArgs } from "../stack/programs.ts";

/** A quiet kafkajs client for tests. */
export function testKafka(brokers: string): Kafka {
  return createKafka({ brokers: brokers.split(","), clientId: "worker-test" }, silentLogger);
}

/** Creates `topics` with `partitions` partitions each and waits until they have leaders. */
export async function createTopics(
  admin: Admin,
  topics: string[],
  partitions: number,
): Promise<void> {
  await createTopicsAndWait(admin, topics.map((topic) => ({ topic, numPartitions: partitions })));
}

/** Sends `messages` in chunks of 1,000 with acks=all. */
export async function produceAll(
  producer: Producer,
  topic: string,
  messages: { key: string | Buffer | null; value: Buffer | string | null }[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 1_000) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1_000) });
  }
}

/** Polls `check` until it returns true, or throws after `ms` with `what`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  let delay = 20;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
}

/** A worker subprocess and its parsed log lines. */
export interface WorkerProcess {
  child: Deno.ChildProcess;
  logs: Record<string, unknown>[];
  /** The ops port it logged. */
  port(): number | undefined;
  /** Waits for a log line matching `match`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, ms: number, what: string): Promise<
    Record<string, unknown>
  >;
  /** Sends `signal` and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * The `worker` task's `deno run` arguments from deno.json, so tests prove its declared
 * permissions are enough. BENCH_V8_FLAGS replaces its `--v8-flags` (empty: none).
 */
export function workerRunArgs(): string[] {
  const [run, ...rest] = taskArgs("worker");
  const override = Deno.env.get("BENCH_V8_FLAGS");
  if (override === undefined) return [run!, ...rest];
  const flags = rest.filter((a) => !a.startsWith("--v8-flags"));
  return [run!, ...(override ? [override] : []), ...flags];
}

/** Starts `worker/main.ts` with `env` (plus WORKER_PORT=0 and LOG_LEVEL=info by default). */
export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: workerRunArgs(),
    cwd: ROOT,
    env: { WORKER_PORT: "0", WORKER_HOSTNAME: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        try {
          logs.push(JSON.parse(line));
        } catch {
          logs.push({ msg: "(not json)", line });
        }
      }
    }
  })();
  let status: Promise<Deno.CommandStatus> | undefined;
  const finished = () => (status ??= child.status.then(async (s) => (await reading, s)));
  return {
    child,
    logs,
    port: () => logs.find((l) => l.msg === "listening")?.port as number | undefined,
    async waitForLog(match, ms, what) {
      let found: Record<string, unknown> | undefined;
      await waitFor(() => (found = logs.find(match)) !== undefined, ms, what);
      return found!;
    },
    async stop(signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
      return await finished();
    },
  };
}

/** Everything an integration test needs for one isolated pipeline. */
export interface Pipeline {
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  sql: postgres.Sql;
  topic: string;
  dlq: string;
  schema: string;
  groupId: string;
  /** The worker's environment for this pipeline. */
  workerEnv: Record<string, string>;
  /** Rows in the pipeline's table (0 while it does not exist). */
  count(): Promise<number>;
  /** True when the group committed every partition of the topic to its end. */
  caughtUp(): Promise<boolean>;
  /** Deletes topics and schema, closes clients. */
  close(): Promise<void>;
}

/** Creates a unique topic pair (`partitions` each), schema and group on `stack`. */
export async function setupPipeline(
  stack: { KAFKA_BROKERS: string; WAREHOUSE_URL: string },
  prefix: string,
  partitions = 3,
): Promise<Pipeline> {
  const kafka = testKafka(stack.KAFKA_BROKERS);
  const topic = uniqueName(prefix);
  const dlq = `${topic}.dlq`;
  const schema = uniqueName(prefix);
  const groupId = `${topic}_group`;
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  const sql = postgres(stack.WAREHOUSE_URL, { max: 2, onnotice: () => {} });
  await admin.connect();
  await createTopics(admin, [topic, dlq], partitions);
  await producer.connect();
  return {
    kafka,
    admin,
    producer,
    sql,
    topic,
    dlq,
    schema,
    groupId,
    workerEnv: {
      KAFKA_BROKERS: stack.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: dlq,
      KAFKA_GROUP_ID: groupId,
      WAREHOUSE_URL: stack.WAREHOUSE_URL,
      WAREHOUSE_SCHEMA: schema,
    },
    async count() {
      try {
        const [r] = await sql.unsafe(`select count(*)::int as n from ${schema}.users`);
        return Number(r!.n);
      } catch (err) {
        if ((err as { code?: string }).code === "42P01") return 0; // not created yet
        throw err;
      }
    },
    async caughtUp() {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return ends.every((end) => {
        const c = committed?.partitions.find((p) => p.partition === end.partition);
        return end.high === "0" || c?.offset === end.high;
      });
    },
    async close() {
      await producer.disconnect().catch(() => {});
      await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => {});
      await admin.disconnect().catch(() => {});
      await sql.unsafe(`drop schema if exists ${schema} cascade`).catch(() => {});
      await sql.end();
    },
  };
}

/** A record read back from a topic, headers as text. */
export interface TopicRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** True when the group's committed offsets reach the end of every partition of `topic`. */
export async function committedUpTo(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<boolean> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return ends.every((end) => {
    const c = committed?.partitions.find((p) => p.partition === end.partition);
    return end.high === "0" || c?.offset === end.high;
  });
}

/** Reads `expected` records from the start of `topic` (a throw-away group), with a deadline. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  expected: number,
): Promise<TopicRecord[]> {
  const consumer = kafka.consumer({ groupId: uniqueName("reader"), allowAutoTopicCreation: false });
  const out: TopicRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        out.push({ key: message.key, value: message.value, headers });
        await Promise.resolve();
      },
    });
    await waitFor(() => out.length >= expected, 30_000, `${expected} records on ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return out;
}
