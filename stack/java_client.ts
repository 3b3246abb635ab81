/**
 * Apache Kafka's own Java client, run from the stack's cached jars, as a second opinion on the
 * secured listener: a check that does not depend on the client the programs use, and
 * that a managed Kafka's documentation would give (`client.properties`).
 *
 * The cache holds the broker's jars only (no `kafka-tools`, so no `TopicCommand` or console
 * producer); `kafka.admin.ConfigCommand`, which is in the broker jar, lists the topics when asked
 * to describe them all. Debian's kcat is no substitute: its SCRAM-SHA-512 fails against Kafka 4.1.
 */
import { ensureKafkaJars } from "./kafka.ts";
import { writePrivate } from "./sasl_ssl.ts";

/** What a Java client run returned. */
export interface JavaClientResult {
  /** The process's exit code (143 when it was stopped at the deadline). */
  code: number;
  /** Topic names it listed (empty when it failed). */
  topics: string[];
  /** stdout and stderr together, for assertions on the error; holds no password. */
  output: string;
}

/**
 * The `client.properties` of a Java client for the settings of a `secure.env`: SASL_SSL,
 * SCRAM-SHA-512, the CA as a PEM truststore. `password` and `caFile` replace the env's, to test
 * refusals. Short timeouts, so that a refused client gives up within seconds.
 */
export function javaClientProperties(
  env: Record<string, string>,
  opts: { password?: string; caFile?: string } = {},
): string {
  const password = opts.password ?? env.KAFKA_SASL_PASSWORD;
  const props = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": env.KAFKA_SASL_MECHANISM?.toUpperCase(),
    "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required " +
      `username="${env.KAFKA_SASL_USERNAME}" password="${password}";`,
    "ssl.truststore.type": "PEM",
    "ssl.truststore.location": opts.caFile ?? env.KAFKA_SSL_CA_FILE,
    "request.timeout.ms": 10_000,
    "default.api.timeout.ms": 20_000,
    "reconnect.backoff.max.ms": 1_000,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/**
 * Lists the cluster's topics with the Java admin client over the secured listener of `env`
 * (a `secure.env`'s settings); see `javaClientProperties` for `password` and `caFile`.
 * The process is stopped after `timeoutMs` (default 60 s).
 */
export async function listTopicsWithJava(
  env: Record<string, string>,
  opts: { password?: string; caFile?: string; timeoutMs?: number } = {},
): Promise<JavaClientResult> {
  const libs = await ensureKafkaJars();
  const dir = await Deno.makeTempDir({ prefix: "java-client-" });
  try {
    const config = `${dir}/client.properties`; // holds the password: owner only
    await writePrivate(config, javaClientProperties(env, opts));
    const out = await new Deno.Command("java", {
      args: [
        "-Xmx128m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", // a short run: start fast rather than optimise
        "-cp",
        `${libs}/*`,
        "kafka.admin.ConfigCommand",
        "--bootstrap-server",
        env.KAFKA_BROKERS ?? "",
        "--command-config",
        config,
        "--describe",
        "--entity-type",
        "topics",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const topics = out.success
      ? [...stdout.matchAll(/^Dynamic configs for topic (\S+) are:$/gm)].map((m) => m[1]!)
      : [];
    return {
      code: out.code,
      topics: topics.sort(),
      output: stdout + new TextDecoder().decode(out.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
