/**
 * Apache Kafka for the local stack: the official broker jars from Maven Central, fetched once
 * into a cache outside the repository, run in KRaft mode (every node is broker and controller).
 *
 * Version note: `@platformatic/kafka` 2.12.1 supports Kafka 3.5 to 4.2 and was checked against
 * this broker (topic admin, the idempotent producer with acks=all, consumer groups with manual
 * commits and rebalances, SASL/SCRAM-SHA-512 over TLS).
 */
import { createKafkaAdmin, type KafkaAdmin } from "../shared/kafka/admin.ts";
import { kafkaConnection } from "../shared/kafka/settings.ts";
import {
  exists,
  isAlive,
  isListening,
  run,
  spawnDetached,
  StackError,
  stopPid,
  tailFile,
  waitFor,
} from "./_process.ts";
import {
  saslSslProperties,
  scramFormatArgs,
  SECURE_LISTENER,
  type SecureListener,
  writePrivate,
} from "./sasl_ssl.ts";

/** The pinned Apache Kafka release (Scala 2.13 build). */
export const KAFKA_VERSION = "4.1.1";
/** The slf4j binding the broker needs to write its log through log4j2. */
const LOG4J_SLF4J = "org.apache.logging.log4j:log4j-slf4j-impl:2.24.3";

/** One node of the cluster as recorded in the stack's state file. */
export interface KafkaNode {
  nodeId: number;
  port: number;
  controllerPort: number;
  /** The SASL_SSL listener's port, on a secured stack only. */
  securePort?: number;
  /**
   * One plaintext listener per network path of a stack with paths (see `UpOptions.paths`): it
   * listens on `port` and advertises `proxyPort`, where the path's Toxiproxy proxy listens, so
   * that a client bootstrapped through the proxy is sent back through it for every broker.
   */
  paths?: Record<string, { port: number; proxyPort: number }>;
  dir: string;
  pid?: number;
}

/** Where the jars live: `$STACK_CACHE_DIR`, else `$XDG_CACHE_HOME/user-pipeline`, else `~/.cache/…`. */
export function cacheDir(): string {
  const explicit = Deno.env.get("STACK_CACHE_DIR");
  if (explicit) return explicit;
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/user-pipeline`;
}

/**
 * Makes sure the broker's jars are in the cache and returns the folder that holds them.
 * The first call runs Maven (about 45 jars, 43 MB); later calls only check a marker file.
 * @throws {StackError} when Java is missing or too old, or Maven is missing or fails.
 */
export async function ensureKafkaJars(): Promise<string> {
  await checkJava();
  const home = `${cacheDir()}/kafka_2.13-${KAFKA_VERSION}`;
  const libs = `${home}/libs`;
  if (await exists(`${home}/complete`)) return libs;

  const work = `${home}.tmp-${Deno.pid}`;
  await Deno.remove(work, { recursive: true }).catch(() => {});
  await Deno.mkdir(work, { recursive: true });
  try {
    await Deno.writeTextFile(`${work}/pom.xml`, pom());
    const mvn = ["-q", "-B", `-Dmaven.repo.local=${work}/m2`];
    const what = "Maven download of the Kafka jars";
    await run("mvn", [
      ...mvn,
      "dependency:copy-dependencies",
      "-DincludeScope=runtime",
      `-DoutputDirectory=${work}/libs`,
    ], { cwd: work, what });
    await run("mvn", [
      ...mvn,
      "dependency:copy",
      `-Dartifact=${LOG4J_SLF4J}`,
      `-DoutputDirectory=${work}/libs`,
    ], { cwd: work, what });
    await Deno.remove(`${work}/m2`, { recursive: true });
    await Deno.writeTextFile(`${work}/complete`, new Date().toISOString());
    await Deno.remove(home, { recursive: true }).catch(() => {});
    await Deno.rename(work, home);
  } catch (err) {
    await Deno.remove(work, { recursive: true }).catch(() => {});
    if (err instanceof StackError && err.message.startsWith("Cannot run mvn")) {
      throw new StackError(
        `Cannot fetch the Kafka ${KAFKA_VERSION} jars: Maven (mvn) is not installed. ` +
          `Install Maven 3, or use compose.yaml with a container engine.`,
        { cause: err },
      );
    }
    throw err;
  }
  return libs;
}

/**
 * Writes the node's config and log settings, and formats its storage on first use.
 * With `secure`, the node also serves SASL_SSL on its `securePort`, and a first format creates
 * the SCRAM user; the file is then private (0600), as it holds the keystore password.
 */
export async function prepareNode(
  node: KafkaNode,
  cluster: { id: string; nodes: KafkaNode[]; secure?: SecureListener },
  libs: string,
): Promise<void> {
  const replicas = cluster.nodes.length;
  const minIsr = replicas >= 3 ? 2 : 1;
  const voters = cluster.nodes.map((n) => `${n.nodeId}@127.0.0.1:${n.controllerPort}`).join(",");
  const { secure } = cluster;
  if (secure && node.securePort === undefined) {
    throw new StackError(`Kafka node ${node.nodeId} has no SASL_SSL port in the state file`);
  }
  const plain = `PLAINTEXT://127.0.0.1:${node.port}`;
  const sasl = secure ? [`${SECURE_LISTENER}://127.0.0.1:${node.securePort}`] : [];
  const paths = Object.entries(node.paths ?? {}).map(([name, p]) => ({
    listener: pathListener(name),
    ...p,
  }));
  const props = {
    "process.roles": "broker,controller",
    "node.id": node.nodeId,
    "controller.quorum.voters": voters,
    "listeners": [
      plain,
      ...sasl,
      ...paths.map((p) => `${p.listener}://127.0.0.1:${p.port}`),
      `CONTROLLER://127.0.0.1:${node.controllerPort}`,
    ].join(","),
    "advertised.listeners": [
      plain,
      ...sasl,
      ...paths.map((p) => `${p.listener}://127.0.0.1:${p.proxyPort}`),
    ].join(","),
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": [
      "PLAINTEXT:PLAINTEXT",
      ...(secure ? [`${SECURE_LISTENER}:${SECURE_LISTENER}`] : []),
      ...paths.map((p) => `${p.listener}:PLAINTEXT`),
      "CONTROLLER:PLAINTEXT",
    ].join(","),
    "inter.broker.listener.name": "PLAINTEXT",
    "log.dirs": `${node.dir}/data`,
    "auto.create.topics.enable": false,
    "num.partitions": 6,
    "default.replication.factor": replicas,
    "min.insync.replicas": minIsr,
    "offsets.topic.replication.factor": replicas,
    "offsets.topic.num.partitions": 10,
    "transaction.state.log.replication.factor": replicas,
    "transaction.state.log.min.isr": minIsr,
    "group.initial.rebalance.delay.ms": 0,
    "unclean.leader.election.enable": false,
    "log.retention.hours": 24,
    "log.segment.bytes": 256 * 1024 * 1024,
    ...(secure ? saslSslProperties(secure) : {}),
  };
  const text = Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
  await Deno.mkdir(node.dir, { recursive: true });
  if (secure) await writePrivate(`${node.dir}/server.properties`, text);
  else await Deno.writeTextFile(`${node.dir}/server.properties`, text);
  await Deno.writeTextFile(`${node.dir}/log4j2.yaml`, log4jConfig(`${node.dir}/server.log`));
  if (!(await exists(`${node.dir}/data/meta.properties`))) {
    const args = [
      "kafka.tools.StorageTool",
      "format",
      // One argument: a base64url id can start with "-" and would read as an option.
      `--cluster-id=${cluster.id}`,
      "-c",
      `${node.dir}/server.properties`,
      ...(secure ? scramFormatArgs(secure.secrets) : []),
    ];
    // The SCRAM password must not show on a command line (`ps`): the java launcher reads the
    // main class and its arguments from a private argument file instead.
    const argFile = `${node.dir}/format.args`;
    await writePrivate(argFile, args.map(javaArgFileQuote).join("\n") + "\n");
    try {
      await run("java", ["-cp", `${libs}/*`, `@${argFile}`], {
        what: `Formatting Kafka storage for node ${node.nodeId}`,
      });
    } finally {
      await Deno.remove(argFile).catch(() => {});
    }
  }
}

/** One argument in a java launcher argument file: quoted, `\\` and `"` escaped. */
function javaArgFileQuote(arg: string): string {
  return `"${arg.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** Starts one node (already prepared) and returns its pid. */
export async function startNode(node: KafkaNode, libs: string, heapMb: number): Promise<number> {
  if (await isAlive(node.pid)) return node.pid!;
  for (const port of nodePorts(node)) {
    if (await isListening(port)) {
      throw new StackError(
        `Cannot start Kafka node ${node.nodeId}: port ${port} is taken by another process. ` +
          `Stop it, or run "deno task stack down --purge" to start over on new ports.`,
      );
    }
  }
  return await spawnDetached("java", [
    `-Xms${Math.min(heapMb, 256)}m`,
    `-Xmx${heapMb}m`,
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${node.dir}/log4j2.yaml`,
    "-cp",
    `${libs}/*`,
    "kafka.Kafka",
    `${node.dir}/server.properties`,
  ], `${node.dir}/stdout.log`);
}

/** Every port a node listens on (plaintext, controller, SASL_SSL when secured, its paths). */
export function nodePorts(node: KafkaNode): number[] {
  return [
    node.port,
    node.controllerPort,
    ...(node.securePort ? [node.securePort] : []),
    ...Object.values(node.paths ?? {}).map((p) => p.port),
  ];
}

/** The listener name of network path `name` (`ingest` → `PATH_INGEST`). */
export function pathListener(name: string): string {
  return `PATH_${name.toUpperCase()}`;
}

/** Stops one node by pid (SIGTERM, then SIGKILL after the grace period). */
export async function stopNode(node: KafkaNode, graceMs = 20_000): Promise<void> {
  await stopPid(node.pid, graceMs);
}

/**
 * Waits until every node listens and the cluster reports all its brokers.
 * @throws {StackError} with the tail of the broker log when it does not happen in time.
 */
export async function waitForCluster(nodes: KafkaNode[], timeoutMs: number): Promise<void> {
  const listening = await waitFor(async () => {
    for (const n of nodes) {
      if (!(await isAlive(n.pid))) return true; // fail fast below
      if (!(await isListening(n.port))) return false;
      if (n.securePort && !(await isListening(n.securePort))) return false;
    }
    return true;
  }, timeoutMs);
  for (const n of nodes) {
    if (!(await isAlive(n.pid)) || !listening) {
      throw new StackError(
        `Kafka node ${n.nodeId} did not start within ${timeoutMs / 1000} s. ` +
          `Last lines of ${n.dir}/server.log:\n${await tailFile(`${n.dir}/server.log`)}\n` +
          `${await tailFile(`${n.dir}/stdout.log`, 5)}`,
      );
    }
  }
  const admin = await adminFor(nodes);
  try {
    const ok = await waitFor(async () => {
      try {
        return (await admin.brokerCount()) === nodes.length;
      } catch {
        return false;
      }
    }, timeoutMs);
    if (!ok) throw new StackError(`Kafka cluster did not report ${nodes.length} brokers in time`);
  } finally {
    await admin.close();
  }
}

/**
 * Waits until every partition of every topic has a leader and no error: a restarted broker
 * listens before it has loaded its partitions, and clients then get "This server does not host
 * this topic-partition".
 * @throws {StackError} when that does not happen in time.
 */
export async function waitForLeaders(nodes: KafkaNode[], timeoutMs: number): Promise<void> {
  const admin = await adminFor(nodes);
  try {
    const ok = await waitFor(() => admin.leadersReady(), timeoutMs);
    if (!ok) throw new StackError(`Kafka partitions had no leader after ${timeoutMs / 1000} s`);
  } finally {
    await admin.close();
  }
}

/** Creates the topics that do not exist yet; existing ones are left as they are. */
export async function ensureTopics(
  nodes: KafkaNode[],
  topics: { topic: string; numPartitions: number }[],
): Promise<void> {
  const admin = await adminFor(nodes);
  try {
    const replicationFactor = nodes.length >= 3 ? 3 : nodes.length;
    await admin.createTopics(
      topics.map((t) => ({
        topic: t.topic,
        partitions: t.numPartitions,
        replicationFactor,
        configs: { "min.insync.replicas": String(replicationFactor >= 3 ? 2 : 1) },
      })),
      60_000,
    );
  } finally {
    await admin.close();
  }
}

/** A fresh cluster id in Kafka's format (base64url of 16 random bytes, no padding). */
export function newClusterId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

async function adminFor(nodes: KafkaNode[]): Promise<KafkaAdmin> {
  const connection = await kafkaConnection({
    KAFKA_BROKERS: nodes.map((n) => `127.0.0.1:${n.port}`),
    KAFKA_SSL: false,
  }, "stack");
  return createKafkaAdmin(connection, { retries: 8, retryBaseMs: 200 });
}

async function checkJava(): Promise<void> {
  let text: string;
  try {
    text = await run("java", ["-version"], { what: "java -version" });
  } catch (cause) {
    throw new StackError(
      "Cannot start Kafka: Java is not installed (java not on PATH). Install a JDK or JRE 17+.",
      { cause },
    );
  }
  const major = Number.parseInt(/version "(\d+)/.exec(text)?.[1] ?? "0", 10);
  if (major < 17) {
    throw new StackError(`Cannot start Kafka ${KAFKA_VERSION}: it needs Java 17+, found ${major}`);
  }
}

function pom(): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.stack</groupId><artifactId>kafka-jars</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;
}

function log4jConfig(file: string): string {
  return `Configuration:
  Appenders:
    RollingFile:
      name: F
      fileName: "${file}"
      filePattern: "${file}.%i"
      PatternLayout: { pattern: "[%d] %p %m (%c)%n" }
      SizeBasedTriggeringPolicy: { size: 20MB }
      DefaultRolloverStrategy: { max: 2 }
  Loggers:
    Logger:
      - { name: kafka.request.logger, level: WARN }
      - { name: state.change.logger, level: WARN }
    Root: { level: INFO, AppenderRef: [{ ref: F }] }
`;
}
