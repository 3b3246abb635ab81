/**
 * The local stack: Apache Kafka (KRaft, one or three nodes) and PostgreSQL on free loopback
 * ports, with its state in `.stack/<name>/` at the repository root.
 *
 * - `upStack()` is idempotent: a running stack is left alone, a stopped one restarts on the
 *   same ports with its data, and a missing one is created.
 * - `downStack()` stops exactly the stack's processes: the Kafka nodes by the pid recorded in the
 *   state file, PostgreSQL by the pid in its data directory's `postmaster.pid` (a `pg_ctl
 *   restart` outside the stack changes it).
 * - `stack.env` in the state folder holds the connection settings (`KAFKA_BROKERS`,
 *   `WAREHOUSE_URL`) that `deno task dev` and the tests read.
 * - A secured stack (`secure: true`, recorded in the state file) also serves SASL_SSL with
 *   SCRAM-SHA-512 on every Kafka node; its client settings are in `secure.env` (0600), its
 *   certificates under `tls/` (see `sasl_ssl.ts`, `tls.ts`). Topics are still created over
 *   plaintext.
 * - A stack with network paths (`paths: ["ingest", "worker"]`, for the fault suite) also runs
 *   a Toxiproxy server: each path reaches every broker and PostgreSQL through proxies of its
 *   own (`state.network`, `networkEnv`), so a fault can break one program's path alone.
 *
 * @example
 * ```ts
 * const stack = await upStack({ name: "local" });
 * console.log(stack.env.KAFKA_BROKERS); // "127.0.0.1:41234"
 * ```
 */
import { ROOT, stackDir } from "./paths.ts";
import {
  ensureKafkaJars,
  ensureTopics,
  KAFKA_VERSION,
  type KafkaNode,
  newClusterId,
  nodePorts,
  prepareNode,
  startNode,
  stopNode,
  waitForCluster,
} from "./kafka.ts";
import {
  findPgBin,
  type PgNode,
  postgresPid,
  startPostgres,
  stopPostgres,
  warehouseUrl,
} from "./postgres.ts";
import { freePort, isAlive, isListening, StackError, stopPid, waitFor } from "./_process.ts";
import { startToxiproxy, toxiproxyApi } from "./toxiproxy.ts";
import { ensureSecrets, secureEnv, type SecureListener, writeSecureEnv } from "./sasl_ssl.ts";
import { ensureTls, tlsFiles } from "./tls.ts";

export { StackError };

/** The topics every stack has. */
export const STACK_TOPICS = [
  { topic: "user_created", numPartitions: 6 },
  { topic: "user_created.dlq", numPartitions: 6 },
];

/** Connection settings a stack hands to the programs. */
export interface StackEnv {
  KAFKA_BROKERS: string;
  WAREHOUSE_URL: string;
}

/** What `.stack/<name>/state.json` records. */
export interface StackState {
  name: string;
  kafkaVersion: string;
  clusterId: string;
  kafka: KafkaNode[];
  postgres: PgNode;
  env: StackEnv;
  /** True when the Kafka nodes also serve SASL_SSL (each node's `securePort`). */
  secure?: boolean;
  /** The Toxiproxy server of a stack with network paths, and each path's PostgreSQL proxy. */
  network?: StackNetworkState;
}

/** What a stack with network paths records besides each node's `paths`. */
export interface StackNetworkState {
  /** Toxiproxy's API port. */
  apiPort: number;
  pid?: number;
  /** Per path, the port of its proxy to PostgreSQL. */
  postgres: Record<string, number>;
}

/** The proxy of `path` to Kafka node `nodeId`, or to PostgreSQL. */
export function proxyName(path: string, target: number | "postgres"): string {
  return target === "postgres" ? `${path}-postgres` : `${path}-kafka-${target}`;
}

/** The connection settings of one network path: every broker and PostgreSQL via its proxies. */
export function networkEnv(state: StackState, path: string): StackEnv {
  const pg = state.network?.postgres[path];
  if (pg === undefined) throw new StackError(`Stack "${state.name}" has no network path "${path}"`);
  return {
    KAFKA_BROKERS: state.kafka.map((n) => `127.0.0.1:${n.paths![path]!.proxyPort}`).join(","),
    WAREHOUSE_URL: warehouseUrl(pg),
  };
}

/** Options for `upStack`. */
export interface UpOptions {
  /** The state folder's name under `.stack/` (default `local`). */
  name?: string;
  /** 1 (default) or 3 Kafka nodes; 3 gives replication factor 3 and min.insync.replicas=2. */
  brokers?: 1 | 3;
  /**
   * A SASL_SSL listener (SCRAM-SHA-512) beside the plaintext one, settings in `secure.env`.
   * Unset: as the stack was created (plaintext for a new one).
   */
  secure?: boolean;
  /**
   * Network paths (lower-case names) to create with a new stack: each gets a Kafka listener per
   * node and Toxiproxy proxies to every broker and PostgreSQL (see `networkEnv`).
   */
  paths?: readonly string[];
  /** Readiness timeout per component, in ms (default 90 s). */
  timeoutMs?: number;
  /** Progress messages (default: none). */
  log?: (line: string) => void;
}

export { ROOT, stackDir };

/**
 * Brings a stack up (or leaves a running one alone) and returns its state.
 * @throws {StackError} naming what is missing (Java, Maven, PostgreSQL binaries, a taken port).
 */
export async function upStack(opts: UpOptions = {}): Promise<StackState> {
  const name = opts.name ?? "local";
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const log = opts.log ?? (() => {});
  const dir = stackDir(name);
  await Deno.mkdir(dir, { recursive: true });

  let state = await readState(name);
  const wanted = opts.brokers ?? (state?.kafka.length as 1 | 3 | undefined) ?? 1;
  const startOver = `Run "deno task stack down --purge${
    name === "local" ? "" : ` --name ${name}`
  }" first, or use another --name.`;
  if (state && state.kafka.length !== wanted) {
    throw new StackError(
      `Stack "${name}" was created with ${state.kafka.length} Kafka node(s), not ${wanted}. ` +
        startOver,
    );
  }
  const secure = opts.secure ?? state?.secure ?? false;
  if (state && (state.secure ?? false) !== secure) {
    throw new StackError(
      `Stack "${name}" was created ${state.secure ? "with" : "without"} a SASL_SSL listener ` +
        `(--secure). ${startOver}`,
    );
  }
  const paths = opts.paths ?? [];
  for (const path of paths) {
    if (!/^[a-z][a-z0-9]*$/.test(path)) {
      throw new StackError(`A network path name is lower-case letters and digits: "${path}"`);
    }
  }
  if (state && paths.some((p) => state!.network?.postgres[p] === undefined)) {
    throw new StackError(`Stack "${name}" was created without network paths. ${startOver}`);
  }
  if (state && (await isRunning(state))) {
    const pgPid = await postgresPid(state.postgres);
    if (pgPid !== state.postgres.pid) { // restarted outside the stack: record the live pid
      state.postgres.pid = pgPid;
      await writeState(state);
    }
    await ensureTopics(state.kafka, STACK_TOPICS); // an earlier `up` may have stopped short
    if (state.secure) { // rewrite secure.env: cheap, and it may have been deleted
      const secrets = await ensureSecrets(dir, { create: false });
      await writeSecureEnv(dir, secureEnv(state.kafka, { secrets, tls: tlsFiles(`${dir}/tls`) }));
    }
    log(`stack "${name}" is already running`);
    return state;
  }

  const jars = ensureKafkaJars(); // checks Java first: a missing JDK is named as such
  const [libs, pgBin, listener] = await Promise.all([
    jars,
    findPgBin(),
    secure ? jars.then(() => secureListener(dir, { created: state !== undefined })) : undefined,
  ]);
  if (!state) {
    const kafka = Array.from({ length: wanted }, (_, i): KafkaNode => ({
      nodeId: i + 1,
      port: freePort(),
      controllerPort: freePort(),
      ...(secure ? { securePort: freePort() } : {}),
      ...(paths.length > 0
        ? {
          paths: Object.fromEntries(
            paths.map((p) => [p, { port: freePort(), proxyPort: freePort() }]),
          ),
        }
        : {}),
      dir: `${dir}/kafka-${i + 1}`,
    }));
    const pgPort = freePort();
    state = {
      name,
      kafkaVersion: KAFKA_VERSION,
      clusterId: newClusterId(),
      kafka,
      postgres: { port: pgPort, dir: `${dir}/postgres`, bin: pgBin },
      env: {
        KAFKA_BROKERS: kafka.map((n) => `127.0.0.1:${n.port}`).join(","),
        WAREHOUSE_URL: warehouseUrl(pgPort),
      },
      ...(secure ? { secure } : {}),
      ...(paths.length > 0
        ? {
          network: {
            apiPort: freePort(),
            postgres: Object.fromEntries(paths.map((p) => [p, freePort()])),
          },
        }
        : {}),
    };
  }
  const s = state;
  const heapMb = s.kafka.length === 1 ? 512 : 384;
  const cluster = { id: s.clusterId, nodes: s.kafka, secure: listener };
  await Promise.all(s.kafka.map((n) => prepareNode(n, cluster, libs)));
  for (const n of s.kafka) n.pid = await startNode(n, libs, heapMb);
  await writeState(s); // record pids at once, so that `down` can stop a half-started stack
  log(`kafka ${KAFKA_VERSION}: ${s.kafka.length} node(s) starting on ${s.env.KAFKA_BROKERS}`);
  if (listener) {
    const env = secureEnv(s.kafka, listener);
    await writeSecureEnv(dir, env);
    log(`kafka: SASL_SSL (SCRAM-SHA-512) on ${env.KAFKA_BROKERS}, settings in ${dir}/secure.env`);
  }
  s.postgres.pid = await startPostgres(s.postgres);
  await writeState(s);
  log(`postgres: ready on 127.0.0.1:${s.postgres.port}`);
  if (s.network) await startNetwork(s, dir, log);
  await waitForCluster(s.kafka, timeoutMs);
  await ensureTopics(s.kafka, STACK_TOPICS);
  log(`kafka: ready, topics ${STACK_TOPICS.map((t) => t.topic).join(", ")}`);
  return s;
}

/** Starts the stack's Toxiproxy and creates each path's proxies, without toxics. */
async function startNetwork(s: StackState, dir: string, log: (line: string) => void) {
  const net = s.network!;
  if (!(await isAlive(net.pid))) {
    net.pid = await startToxiproxy(`${dir}/toxiproxy`, net.apiPort);
    await writeState(s);
  }
  const api = toxiproxyApi(net.apiPort);
  for (const [path, pgPort] of Object.entries(net.postgres)) {
    for (const n of s.kafka) {
      const p = n.paths![path]!;
      await api.createProxy(proxyName(path, n.nodeId), p.proxyPort, p.port);
    }
    await api.createProxy(proxyName(path, "postgres"), pgPort, s.postgres.port);
  }
  log(`toxiproxy: paths ${Object.keys(net.postgres).join(", ")} on API port ${net.apiPort}`);
}

/**
 * The secrets and certificates of a secured stack, made where missing. A stack that was already
 * created keeps its secrets: its SCRAM user was formatted into the metadata with them.
 */
async function secureListener(dir: string, opts: { created: boolean }): Promise<SecureListener> {
  const secrets = await ensureSecrets(dir, { create: !opts.created });
  const tls = await ensureTls(`${dir}/tls`, secrets.storePassword);
  return { secrets, tls };
}

/**
 * Stops every process of the stack (Kafka by recorded pid, PostgreSQL by `postmaster.pid`) and
 * checks that its ports are closed.
 * With `purge`, also deletes its data so that the next `up` starts from nothing.
 */
export async function downStack(name = "local", opts: { purge?: boolean } = {}): Promise<void> {
  const state = await readState(name);
  if (state) {
    await Promise.all([
      ...state.kafka.map((n) => stopNode(n)),
      stopPid(state.network?.pid, 5_000),
      // pg_ctl can fail on a half-initialised folder; the server's own pid is the last word.
      stopPostgres(state.postgres).catch(async () => stopPid(await postgresPid(state.postgres))),
    ]);
    // A JVM whose main thread has exited shows as a zombie (`Zl`) while its other threads still
    // run its shutdown and hold its ports: give the ports a few seconds to close.
    const ports = [...state.kafka.flatMap(nodePorts), state.postgres.port];
    let open: number[] = [];
    await waitFor(async () => {
      open = [];
      for (const port of ports) if (await isListening(port)) open.push(port);
      return open.length === 0;
    }, 15_000);
    if (open.length > 0) {
      throw new StackError(`Stack "${name}" stopped, but ports ${open.join(", ")} still listen`);
    }
  }
  if (opts.purge) await Deno.remove(stackDir(name), { recursive: true }).catch(() => {});
}

/** One line per component: pid, port and whether it runs. */
export async function stackStatus(name = "local"): Promise<string[]> {
  const state = await readState(name);
  if (!state) return [`stack "${name}": not created`];
  const lines = [`stack "${name}" (${stackDir(name)})`];
  for (const n of state.kafka) {
    const up = (await isAlive(n.pid)) && (await isListening(n.port));
    const ports = `port=${n.port}${n.securePort ? ` sasl_ssl_port=${n.securePort}` : ""}`;
    lines.push(
      `  kafka node ${n.nodeId}: ${up ? "running" : "stopped"} pid=${n.pid ?? "-"} ${ports}`,
    );
  }
  const pgPid = await postgresPid(state.postgres);
  const pgUp = pgPid !== undefined && (await isListening(state.postgres.port));
  lines.push(
    `  postgres: ${pgUp ? "running" : "stopped"} pid=${
      pgPid ?? state.postgres.pid ?? "-"
    } port=${state.postgres.port}`,
  );
  lines.push(
    `  KAFKA_BROKERS=${state.env.KAFKA_BROKERS}`,
    `  WAREHOUSE_URL=${state.env.WAREHOUSE_URL}`,
  );
  if (state.secure) {
    const ports = state.kafka.map((n) => `127.0.0.1:${n.securePort}`).join(",");
    lines.push(
      `  SASL_SSL (SCRAM-SHA-512): ${ports}; client settings in ${stackDir(name)}/secure.env`,
    );
  }
  return lines;
}

/** The state of a stack, or undefined when it was never created (or was purged). */
export async function readState(name = "local"): Promise<StackState | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(`${stackDir(name)}/state.json`));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** True when every process of the stack is alive and listening. */
export async function isRunning(state: StackState): Promise<boolean> {
  for (const n of state.kafka) {
    if (!(await isAlive(n.pid))) return false;
    for (const port of [n.port, ...(n.securePort ? [n.securePort] : [])]) {
      if (!(await isListening(port))) return false;
    }
  }
  if (state.network && !(await isAlive(state.network.pid))) return false;
  return (await postgresPid(state.postgres)) !== undefined &&
    (await isListening(state.postgres.port));
}

/** Saves the state file and the `stack.env` file next to it. */
export async function writeState(state: StackState): Promise<void> {
  const dir = stackDir(state.name);
  await Deno.writeTextFile(`${dir}/state.json.tmp`, JSON.stringify(state, null, 2));
  await Deno.rename(`${dir}/state.json.tmp`, `${dir}/state.json`);
  const env = Object.entries(state.env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
  await Deno.writeTextFile(`${dir}/stack.env`, env);
}
