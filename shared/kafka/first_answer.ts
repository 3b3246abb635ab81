/**
 * A bound on the wait for Kafka's first answer at start.
 *
 * A broker address that accepts TCP and never answers (a wrong service port, a proxy, a
 * half-dead broker) gets no error from the client for minutes: each request waits the 30 s
 * request timeout, and a metadata request retries, each attempt retrying its own version
 * exchange (measured against a silent listener: nothing for 150 s, one new connection every
 * 30 s). A refused port fails within two seconds; this makes a silent one fail within
 * `timeoutMs` too, with one sentence naming `KAFKA_BROKERS` and what the brokers did.
 *
 * @example
 * ```ts
 * import type { Admin } from "@platformatic/kafka";
 * import type { KafkaConnection } from "./settings.ts";
 * declare const client: Admin, connection: KafkaConnection, topics: string[];
 *
 * const metadata = await awaitFirstAnswer(client.metadata({ topics }), connection, 10_000);
 * ```
 */
import { acceptsConnection, type ConnectionProbe } from "../accepts_connection.ts";
import { KafkaSetupError } from "./kafka_error.ts";
import type { KafkaConnection } from "./settings.ts";

/** How long a start waits for Kafka's first answer unless told otherwise, in ms. */
export const START_TIMEOUT_MS = 10_000;

const SILENT = Symbol("silent");

/**
 * Resolves with `answer`, or rejects with what `answer` rejects with, unless `timeoutMs`
 * passes first: then each broker is asked whether it accepts a TCP connection (up to 2 s more)
 * and the error says so. The abandoned `answer` may still settle later (when the client is
 * closed): the race has handled it, so a late rejection is ignored.
 * @throws {KafkaSetupError} naming `KAFKA_BROKERS` when no answer came within `timeoutMs`.
 */
export async function awaitFirstAnswer<T>(
  answer: Promise<T>,
  connection: KafkaConnection,
  timeoutMs: number,
  probe: (address: string) => Promise<ConnectionProbe> = acceptsConnection,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof SILENT>((resolve) => {
    timer = setTimeout(() => resolve(SILENT), timeoutMs);
  });
  let result: T | typeof SILENT;
  try {
    result = await Promise.race([answer, deadline]);
  } finally {
    clearTimeout(timer);
  }
  if (result !== SILENT) return result;
  throw new KafkaSetupError(await silenceMessage(connection, timeoutMs, probe));
}

/** What the brokers did when none answered within `timeoutMs`, and what to check. */
async function silenceMessage(
  connection: KafkaConnection,
  timeoutMs: number,
  probe: (address: string) => Promise<ConnectionProbe>,
): Promise<string> {
  const { brokers } = connection;
  const probes = await Promise.all(brokers.map((b) => probe(b)));
  const accepted = brokers.filter((_, i) => probes[i]!.accepted);
  const within = `within ${timeoutMs / 1000} s`;
  if (accepted.length > 0) {
    const listener = connection.tls ? "a Kafka listener that speaks TLS" : "a Kafka listener";
    return `Kafka at ${accepted.join(",")} accepted the connection but did not answer ` +
      `${within}: check KAFKA_BROKERS (is it ${listener}?)`;
  }
  const reasons = new Set(probes.map((p) => p.accepted ? "" : p.reason));
  return `Kafka did not answer ${within}, and no broker in KAFKA_BROKERS=${brokers.join(",")} ` +
    `accepts a connection now (${[...reasons].join("; ")}): check KAFKA_BROKERS ` +
    "(a wrong host, or a firewall that drops the packets?)";
}
