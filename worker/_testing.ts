/**
 * Helpers for the worker's tests: valid users, the worker as a subprocess with its log lines,
 * and polling with a deadline. Not used by the worker itself.
 */
import postgres from "postgres";
import type { ProducerMessage } from "../shared/kafka/producer.ts";
export { testEvent, testUser, toMessage } from "./_test_events.ts";
import { type TestKafka, testKafka } from "../testing/kafka.ts";
import { uniqueName } from "../stack/harness.ts";
import { taskArgs } from "../stack/programs.ts";

export { testKafka };

/** Sends `messages` in chunks of 1,000 with acks=all. */
export async function produceAll(
  kafka: Pick<TestKafka, "produce">,
  topic: string,
  messages: readonly ProducerMessage[],
): Promise<void> {
  await kafka.produce(topic, messages);
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
  kafka: TestKafka;
  /** The same client: `produceAll(p.producer, …)`. */
  producer: TestKafka;
  admin: TestKafka["admin"];
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
  const sql = postgres(stack.WAREHOUSE_URL, { max: 2, onnotice: () => {} });
  await kafka.createTopics([topic, dlq], partitions);
  return {
    kafka,
    producer: kafka,
    admin: kafka.admin,
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
    caughtUp: () => kafka.committedUpTo(groupId, topic),
    async close() {
      await kafka.admin.deleteTopics([topic, dlq]).catch(() => {});
      await kafka.close().catch(() => {});
      await sql.unsafe(`drop schema if exists ${schema} cascade`).catch(() => {});
      await sql.end();
    },
  };
}
