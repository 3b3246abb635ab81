/**
 * The `@platformatic/kafka` options every client of ours starts from: brokers, TLS, SASL,
 * timeouts and a bounded retry with backoff, from one `KafkaConnection`.
 */
import type { BaseOptions } from "@platformatic/kafka";
import type { KafkaConnection } from "./settings.ts";
import { createCredentialChain } from "../aws/credentials.ts";
import { createMskIamTokenProvider } from "../aws/msk_iam_token.ts";

/** Timeouts and retries a client may set for itself. */
export interface ClientTuning {
  /** TCP + TLS + SASL connect timeout in ms (default 5 s). */
  connectTimeoutMs?: number;
  /** How long one request may wait for its answer, in ms (default 30 s). */
  requestTimeoutMs?: number;
  /** Retries of one operation after its first attempt (default 3). */
  retries?: number;
  /** Base of the exponential retry delay in ms (default 250; at most 5 s per wait). */
  retryBaseMs?: number;
  /**
   * The OAUTHBEARER token source of `aws-msk-iam` instead of MSK's IAM token (tests, against a
   * broker that validates another kind of token).
   */
  oauthBearerToken?: () => Promise<string>;
}

/**
 * One MSK IAM token source per connection (per thread: a connection posted to a Web Worker is a
 * copy, with its own), shared by the clients made from it: one credential chain, one cached
 * token, renewed before it expires.
 */
const mskTokens = new WeakMap<KafkaConnection, () => Promise<string>>();

function mskIamToken(connection: KafkaConnection): () => Promise<string> {
  const sasl = connection.sasl;
  if (sasl?.mechanism !== "aws-msk-iam") throw new TypeError("not an aws-msk-iam connection");
  let token = mskTokens.get(connection);
  if (!token) {
    const chain = createCredentialChain(sasl.credentials);
    token = createMskIamTokenProvider({ region: sasl.region, credentials: () => chain.get() });
    mskTokens.set(connection, token);
  }
  return token;
}

const MECHANISM = {
  "plain": "PLAIN",
  "scram-sha-256": "SCRAM-SHA-256",
  "scram-sha-512": "SCRAM-SHA-512",
} as const;

/** The client options for `connection`, with `suffix` appended to its client id. */
export function clientOptions(
  connection: KafkaConnection,
  suffix = "",
  tuning: ClientTuning = {},
): BaseOptions {
  const base = tuning.retryBaseMs ?? 250;
  const options: BaseOptions = {
    clientId: `${connection.clientId}${suffix}`,
    bootstrapBrokers: connection.brokers,
    connectTimeout: tuning.connectTimeoutMs ?? 5_000,
    requestTimeout: tuning.requestTimeoutMs ?? 30_000,
    retries: tuning.retries ?? 3,
    // Exponential with full jitter, so that many clients do not retry in step.
    retryDelay: (_client, _operation, attempt) =>
      Math.round(Math.random() * Math.min(5_000, base * 2 ** (attempt - 1))),
    autocreateTopics: false,
    metadataMaxAge: 30_000,
  };
  if (connection.tls) {
    const { ca, cert, key, servername } = connection.tls;
    options.tls = {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert, key } : {}),
      ...(servername ? { servername } : {}),
    };
    // Without a name, the host in KAFKA_BROKERS is both SNI and the name checked (Node sends no
    // SNI for an IP address and warns when asked to).
    if (servername) options.tlsServerName = servername;
  }
  if (connection.sasl?.mechanism === "aws-msk-iam") {
    // The client asks for the token at every (re-)authentication; it authenticates again at
    // 80 % of the session lifetime the broker gives (MSK: the token's remaining validity).
    options.sasl = {
      mechanism: "OAUTHBEARER",
      token: tuning.oauthBearerToken ?? mskIamToken(connection),
    };
  } else if (connection.sasl) {
    options.sasl = {
      mechanism: MECHANISM[connection.sasl.mechanism],
      username: connection.sasl.username,
      password: connection.sasl.password,
    };
  }
  return options;
}
