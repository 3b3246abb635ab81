/**
 * The secured listener of a `--secure` stack: SASL_SSL with SCRAM-SHA-512 on every node, beside
 * the plaintext listener (which the stack's own admin, inter-broker and controller traffic keep
 * using), as managed Kafka (Amazon MSK, Aiven, Redpanda Cloud) offers it.
 *
 * - `secrets.json` (0600) in the stack's folder holds what is generated once per stack: the SCRAM
 *   user's password and the TLS store password. The SCRAM user is written into the cluster
 *   metadata when the storage is formatted, so the password must outlive restarts.
 * - `secure.env` (0600) holds the client settings for that listener, in the programs' `KAFKA_*`
 *   variables; `stack.env` stays the plaintext one.
 * - The certificates are `tls.ts`'s.
 */
import type { KafkaNode } from "./kafka.ts";
import { StackError } from "./_process.ts";
import type { TlsFiles } from "./tls.ts";

/** The SCRAM user a secured stack creates for the clients. */
export const SASL_USERNAME = "pipeline";
/** The SCRAM mechanism of the listener, as Kafka names it. */
export const SCRAM_MECHANISM = "SCRAM-SHA-512";
/** The listener's name in `server.properties`. */
export const SECURE_LISTENER = "SASL_SSL";
/**
 * The secured listener also takes SASL OAUTHBEARER, validated by Kafka's own unsecured validator
 * (an unsigned JWT with `sub` and `exp`): the plumbing of `KAFKA_SASL_MECHANISM=aws-msk-iam`
 * (handshake, re-authentication, a refused token) is tested against it.
 */
export const OAUTHBEARER_MECHANISM = "OAUTHBEARER";
/** An OAUTHBEARER session lasts this long before the client must authenticate again. */
export const OAUTHBEARER_REAUTH_MS = 5_000;

/** Generated once per stack and kept in its `secrets.json`. */
export interface StackSecrets {
  saslUsername: string;
  saslPassword: string;
  /** Protects the PKCS12 stores under `tls/`. */
  storePassword: string;
}

/** What a node needs to serve the secured listener. */
export interface SecureListener {
  tls: TlsFiles;
  secrets: StackSecrets;
}

/**
 * Reads the stack's secrets, or generates them when `create` is set and there are none.
 * New secrets make the old TLS stores unreadable, so `tls/` is then emptied.
 * @throws {StackError} when they are missing and may not be created (a formatted secured stack
 * cannot change its SCRAM password).
 */
export async function ensureSecrets(dir: string, opts: { create: boolean }): Promise<StackSecrets> {
  const path = `${dir}/secrets.json`;
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (!opts.create) {
    throw new StackError(
      `Cannot start the secured stack in ${dir}: its ${path} is gone, and the SCRAM user ` +
        `was created with the password it held. Run "deno task stack down --purge" to start over.`,
    );
  }
  const secrets: StackSecrets = {
    saslUsername: SASL_USERNAME,
    saslPassword: randomHex(20),
    storePassword: randomHex(20),
  };
  await Deno.remove(`${dir}/tls`, { recursive: true }).catch(() => {});
  await writePrivate(path, JSON.stringify(secrets, null, 2) + "\n");
  return secrets;
}

/** The `server.properties` entries of the SASL_SSL listener (listeners and maps aside). */
export function saslSslProperties(secure: SecureListener): Record<string, string> {
  const l = `listener.name.${SECURE_LISTENER.toLowerCase()}`;
  return {
    [`${l}.sasl.enabled.mechanisms`]: `${SCRAM_MECHANISM},${OAUTHBEARER_MECHANISM}`,
    // The server side of SCRAM needs a login module entry; it holds no user, as inter-broker
    // traffic stays on the plaintext listener.
    [`${l}.${SCRAM_MECHANISM.toLowerCase()}.sasl.jaas.config`]:
      "org.apache.kafka.common.security.scram.ScramLoginModule required;",
    // OAUTHBEARER with no server callback handler: Kafka's unsecured validator. Sessions are
    // short, so that a test sees the client authenticate again.
    [`${l}.oauthbearer.sasl.jaas.config`]:
      'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";',
    [`${l}.oauthbearer.connections.max.reauth.ms`]: String(OAUTHBEARER_REAUTH_MS),
    [`${l}.ssl.keystore.type`]: "PKCS12",
    [`${l}.ssl.keystore.location`]: secure.tls.keystore,
    [`${l}.ssl.keystore.password`]: secure.secrets.storePassword,
    [`${l}.ssl.key.password`]: secure.secrets.storePassword,
    [`${l}.ssl.client.auth`]: "none",
  };
}

/**
 * The `StorageTool format` arguments that create the SCRAM user in the new cluster's metadata
 * (Kafka 4.1: `--add-scram 'SCRAM-SHA-512=[name=…,password=…]'`, repeatable).
 */
export function scramFormatArgs(secrets: StackSecrets): string[] {
  return [
    "--add-scram",
    `${SCRAM_MECHANISM}=[name=${secrets.saslUsername},password=${secrets.saslPassword}]`,
  ];
}

/** The client settings of the secured listener, as written to `secure.env`. */
export function secureEnv(nodes: KafkaNode[], secure: SecureListener): Record<string, string> {
  return {
    KAFKA_BROKERS: nodes.map((n) => `127.0.0.1:${n.securePort}`).join(","),
    KAFKA_SSL: "true",
    KAFKA_SSL_CA_FILE: secure.tls.caPem,
    KAFKA_SASL_MECHANISM: SCRAM_MECHANISM.toLowerCase(),
    KAFKA_SASL_USERNAME: secure.secrets.saslUsername,
    KAFKA_SASL_PASSWORD: secure.secrets.saslPassword,
  };
}

/** Writes `secure.env` (mode 0600: it holds the password). */
export async function writeSecureEnv(dir: string, env: Record<string, string>): Promise<void> {
  await writePrivate(
    `${dir}/secure.env`,
    Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n",
  );
}

/**
 * Reads a stack's `secure.env` into an object.
 * @throws {Deno.errors.NotFound} when the stack has none (not secured, or never started).
 */
export async function readSecureEnv(dir: string): Promise<Record<string, string>> {
  const text = await Deno.readTextFile(`${dir}/secure.env`);
  return Object.fromEntries(
    text.split("\n").filter((l) => l.includes("=")).map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  );
}

/** Writes a file readable by its owner only, replacing it whole. */
export async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await Deno.remove(tmp).catch(() => {});
  await Deno.writeTextFile(tmp, text, { mode: 0o600 });
  await Deno.rename(tmp, path);
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}
