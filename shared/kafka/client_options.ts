/**
 * The `@platformatic/kafka` options every client of ours starts from: brokers, TLS, SASL,
 * timeouts and a bounded retry with backoff, from one `KafkaConnection`.
 */
import type { BaseOptions } from "@platformatic/kafka";
import type { KafkaConnection } from "./settings.ts";

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
  if (connection.sasl) {
    options.sasl = {
      mechanism: MECHANISM[connection.sasl.mechanism],
      username: connection.sasl.username,
      password: connection.sasl.password,
    };
  }
  return options;
}
