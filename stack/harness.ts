/**
 * The test harness: what integration tests use to reach real Kafka and PostgreSQL.
 *
 * - `sharedStack()` returns the `local` stack, bringing it up if it is not running. Test files
 *   share it and isolate themselves with unique topic, group and schema names (`uniqueName`).
 *   A file lock makes concurrent test processes wait for one `up` instead of racing.
 * - `privateStack()` starts a throw-away stack of its own, for tests that stop or kill a broker
 *   or the database: they must not disturb other test files. Call `stop()` in `finally`. With
 *   `paths`, each named program path runs through Toxiproxy (`network`), to blackhole, slow or
 *   reset one path to one broker or to PostgreSQL.
 * - `securedStack()` starts (or reuses, by name) a stack whose Kafka also serves SASL_SSL with
 *   SCRAM-SHA-512, for tests of TLS and SASL: `secure` holds its `secure.env` settings.
 * - `s3Server()` starts a private S3 API server (moto, installed from PyPI on first use) with a
 *   bucket, signature checks and IAM policies on, for tests of the worker's S3 staging.
 *
 * A test that calls any of them is named `*_stack_test.ts`: `deno task test:unit` skips those
 * files and sets `USER_PIPELINE_UNIT=1`, under which these functions throw instead of starting
 * anything, so a misnamed test fails there instead of slowing it down.
 */
import { isAlive, isListening, signal, waitFor } from "./_process.ts";
import { ensureKafkaJars, startNode, stopNode, waitForLeaders } from "./kafka.ts";
import { startPostgres, stopPostgres } from "./postgres.ts";
import { readSecureEnv } from "./sasl_ssl.ts";
import {
  bootstrapS3,
  S3_TEST_REGION,
  type S3Key,
  s3Reader,
  startS3Server,
  stopS3Server,
} from "./s3.ts";
import { type Toxic, toxiproxyApi } from "./toxiproxy.ts";
import {
  downStack,
  networkEnv,
  proxyName,
  readState,
  stackDir,
  type StackEnv,
  type StackState,
  upStack,
  writeState,
} from "./stack.ts";

/** Throws in a unit run (`deno task test:unit`), which must not start a stack. */
function refuseInUnitRun(what: string): void {
  if (Deno.env.get("USER_PIPELINE_UNIT") === "1") {
    throw new Error(
      `${what}() in a unit run: a test that needs the local stack is named *_stack_test.ts`,
    );
  }
}

/** The shared `local` stack, started if needed (waits for other processes doing the same). */
export async function sharedStack(): Promise<StackEnv> {
  refuseInUnitRun("sharedStack");
  return await _withStackLock("local", async () => (await upStack({ name: "local" })).env);
}

/** A stack with a SASL_SSL listener, and how to reach it both ways. */
export interface SecuredStack {
  name: string;
  /** `stack.env`: the plaintext listener and PostgreSQL. */
  plain: StackEnv;
  /**
   * `secure.env`: `KAFKA_BROKERS` (the SASL_SSL ports), `KAFKA_SSL=true`, `KAFKA_SSL_CA_FILE`,
   * `KAFKA_SASL_MECHANISM=scram-sha-512`, `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`.
   */
  secure: Record<string, string>;
  /** A PEM CA that did not sign the broker certificate, for tests of refusals. */
  otherCaFile: string;
  state: StackState;
  /** Stops the stack and deletes its folder. */
  stop(): Promise<void>;
}

/**
 * A secured stack: `name`'s, brought up if needed (other processes asking for the same name wait
 * for one `up`), or a new `secure-<random>` one. Either way `stop()` deletes it: call it in
 * `finally`, once no other test file still uses the name.
 * @throws {StackError} when it cannot start (a new stack is then deleted again), or when `name`
 * is a stack created without `--secure`.
 */
export async function securedStack(
  name = `secure-${crypto.randomUUID().slice(0, 8)}`,
  opts: { brokers?: 1 | 3 } = {},
): Promise<SecuredStack> {
  refuseInUnitRun("securedStack");
  const state = await _withStackLock(name, async () => {
    const existed = (await readState(name)) !== undefined;
    try {
      return await upStack({ name, brokers: opts.brokers, secure: true });
    } catch (err) {
      if (!existed) await downStack(name, { purge: true }).catch(() => {});
      throw err;
    }
  });
  return {
    name,
    plain: state.env,
    secure: await readSecureEnv(stackDir(name)),
    otherCaFile: `${stackDir(name)}/tls/other-ca.pem`,
    state,
    async stop() {
      await downStack(name, { purge: true });
      await Deno.remove(`${stackDir(name)}.lock`).catch(() => {});
    },
  };
}

/** A private stack with controls to break and mend its parts. */
export interface PrivateStack {
  env: StackEnv;
  state: StackState;
  /** Stops Kafka node `nodeId` (1-based) gracefully, or with SIGKILL when `kill` is set. */
  stopBroker(nodeId: number, opts?: { kill?: boolean }): Promise<void>;
  /** Starts a stopped Kafka node on its old ports; resolves when every partition has a leader. */
  startBroker(nodeId: number): Promise<void>;
  /** Freezes Kafka node `nodeId` (SIGSTOP): it keeps its sockets and answers nothing. */
  freezeBroker(nodeId: number): void;
  /** Resumes a frozen node (SIGCONT). */
  thawBroker(nodeId: number): void;
  /** The network paths, on a stack started with `paths`. */
  network?: StackNetwork;
  /** Stops PostgreSQL (`fast` by default; `immediate` is a crash). */
  stopPostgres(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts PostgreSQL again on its old port. */
  startPostgres(): Promise<void>;
  /** Stops everything and deletes the stack's folder. */
  stop(): Promise<void>;
}

/** Where a network fault applies: one path to one Kafka node, or to PostgreSQL. */
export type NetTarget = { path: string; to: number | "postgres" };

/** The network paths of a private stack (Toxiproxy proxies), and faults to put on them. */
export interface StackNetwork {
  /** The connection settings of `path`: every broker and PostgreSQL through its proxies. */
  env(path: string): StackEnv;
  /**
   * Blackholes `target` in both directions: bytes are taken and dropped, nothing answers and
   * nothing is closed, for open connections and new ones alike.
   */
  blackhole(target: NetTarget): Promise<void>;
  /** Adds `latencyMs` (± `jitterMs`) to every chunk in both directions. */
  slow(target: NetTarget, latencyMs: number, jitterMs?: number): Promise<void>;
  /** Adds any toxic (see `stack/toxiproxy.ts`). */
  toxic(target: NetTarget, toxic: Toxic): Promise<void>;
  /** Removes every fault of `target`. */
  heal(target: NetTarget): Promise<void>;
  /** Removes every fault of every path. */
  healAll(): Promise<void>;
}

/** Starts a private stack under `.stack/<prefix>-<random>`; remember to `stop()` it. */
export async function privateStack(
  opts: { prefix?: string; brokers?: 1 | 3; paths?: readonly string[] } = {},
): Promise<PrivateStack> {
  refuseInUnitRun("privateStack");
  const name = `${opts.prefix ?? "test"}-${crypto.randomUUID().slice(0, 8)}`;
  let state: StackState;
  try {
    state = await upStack({ name, brokers: opts.brokers ?? 1, paths: opts.paths ?? [] });
  } catch (err) {
    await downStack(name, { purge: true }).catch(() => {});
    throw err;
  }
  const node = (id: number) => {
    const n = state.kafka.find((k) => k.nodeId === id);
    if (!n) throw new Error(`no Kafka node ${id} in stack ${name}`);
    return n;
  };
  return {
    env: state.env,
    state,
    ...(state.network ? { network: stackNetwork(state) } : {}),
    freezeBroker(nodeId) {
      signal(node(nodeId).pid!, "SIGSTOP");
    },
    thawBroker(nodeId) {
      signal(node(nodeId).pid!, "SIGCONT");
    },
    async stopBroker(nodeId, o = {}) {
      const n = node(nodeId);
      if (o.kill) {
        signal(n.pid!, "SIGKILL");
        await waitFor(async () => !(await isAlive(n.pid)), 10_000);
      } else {
        await stopNode(n);
      }
    },
    async startBroker(nodeId) {
      const n = node(nodeId);
      n.pid = await startNode(n, await ensureKafkaJars(), state.kafka.length === 1 ? 512 : 384);
      await writeState(state);
      await waitFor(() => isListening(n.port), 60_000);
      await waitForLeaders(state.kafka, 60_000);
    },
    async stopPostgres(mode = "fast") {
      await stopPostgres(state.postgres, mode);
    },
    async startPostgres() {
      state.postgres.pid = await startPostgres(state.postgres);
      await writeState(state);
    },
    async stop() {
      await downStack(name, { purge: true });
    },
  };
}

/** The faults of a stack's network paths, through its Toxiproxy API. */
function stackNetwork(state: StackState): StackNetwork {
  const api = toxiproxyApi(state.network!.apiPort);
  const name = (t: NetTarget) => proxyName(t.path, t.to);
  const both = async (t: NetTarget, toxic: Omit<Toxic, "stream">) => {
    for (const stream of ["upstream", "downstream"] as const) {
      await api.addToxic(name(t), { ...toxic, stream, name: `${toxic.type}_${stream}` });
    }
  };
  return {
    env: (path) => networkEnv(state, path),
    blackhole: (t) => both(t, { type: "timeout", attributes: { timeout: 0 } }),
    slow: (t, latency, jitter = 0) => both(t, { type: "latency", attributes: { latency, jitter } }),
    toxic: (t, toxic) => api.addToxic(name(t), toxic),
    heal: (t) => api.removeToxics(name(t)),
    healAll: () => api.resetAll(),
  };
}

export { listTopicsWithJava } from "./java_client.ts";

/** A private S3 server with one bucket. */
export interface S3Server {
  /** `http://127.0.0.1:<port>`: `WAREHOUSE_S3_ENDPOINT` (path-style). */
  endpoint: string;
  region: string;
  bucket: string;
  /** The staging prefix the worker's key may write under. */
  prefix: string;
  /** The worker's key: `s3:PutObject` and `s3:DeleteObject` under `prefix`, nothing else. */
  worker: S3Key;
  /** The settings of a worker that stages here (`WAREHOUSE_S3_*`, `AWS_*`). */
  env: Record<string, string>;
  /** Downloads an object (with a reading key of its own). */
  get(key: string): Promise<Uint8Array>;
  /** The keys under `prefix` (one page). */
  list(prefix: string): Promise<string[]>;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts a private S3 server (moto) with `bucket` and keys; call `stop()` in `finally`. The
 * first call on a machine installs moto from PyPI into the stack's cache (about 25 s).
 * @throws {StackError} when Python, venv or pip is missing, or the server does not start.
 */
export async function s3Server(
  opts: { bucket?: string; prefix?: string } = {},
): Promise<S3Server> {
  refuseInUnitRun("s3Server");
  const bucket = opts.bucket ?? "staging-test";
  const prefix = opts.prefix ?? "staging/";
  const dir = stackDir(`s3-${crypto.randomUUID().slice(0, 8)}`);
  const server = await startS3Server(dir);
  const stop = async () => {
    await stopS3Server(server);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const keys = await bootstrapS3(server, bucket, prefix);
    const reader = s3Reader(server, bucket, keys.reader);
    return {
      endpoint: server.endpoint,
      region: S3_TEST_REGION,
      bucket,
      prefix,
      worker: keys.worker,
      env: {
        WAREHOUSE_S3_BUCKET: bucket,
        WAREHOUSE_S3_PREFIX: prefix,
        WAREHOUSE_S3_ENDPOINT: server.endpoint,
        AWS_REGION: S3_TEST_REGION,
        AWS_ACCESS_KEY_ID: keys.worker.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.worker.secretAccessKey,
        // Never ask 169.254.169.254 from a test.
        AWS_EC2_METADATA_DISABLED: "true",
      },
      get: reader.get,
      list: reader.list,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Runs `fn` holding `.stack/<name>.lock`, so that concurrent test processes take turns. */
async function _withStackLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(stackDir(name), { recursive: true });
  const lock = await Deno.open(`${stackDir(name)}.lock`, { create: true, write: true });
  try {
    await lock.lock(true);
    return await fn();
  } finally {
    lock.close(); // closing releases the lock
  }
}

/** A name unique to this run, for topics, consumer groups and schemas (`[a-z0-9_]`). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
}
