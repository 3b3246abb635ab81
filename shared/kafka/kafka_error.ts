/**
 * Kafka connection failures in words a user can act on: which setting to fix.
 *
 * A wrong password, an unknown CA, a host name the certificate does not carry, or TLS spoken
 * to a plaintext port each fail deep inside the client (a closed socket, "write UNKNOWN", an
 * authentication error wrapped in retries). `explainKafkaError` reads what the error chain
 * says; `diagnoseKafkaError` also asks the broker itself with a TLS handshake when the chain
 * says nothing useful, and names the variable.
 */
import type { KafkaConnection } from "./settings.ts";
import { probeTls, type TlsProbeResult } from "./tls_probe.ts";

/** Kafka cannot be used as configured (a bad setting, a missing topic). */
export class KafkaSetupError extends Error {
  override name = "KafkaSetupError";
}

/** Every error in the chain: causes and aggregated errors, depth-first, each once. */
export function errorChain(err: unknown): Error[] {
  const out: Error[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number) => {
    if (!(e instanceof Error) || seen.has(e) || depth > 8) return;
    seen.add(e);
    out.push(e);
    if (e instanceof AggregateError) { for (const inner of e.errors) visit(inner, depth + 1); }
    visit((e as { cause?: unknown }).cause, depth + 1);
  };
  visit(err, 0);
  return out;
}

/** Each error of the chain as `code apiId message` (a broker's answer names its error in `apiId`). */
function chainText(err: unknown): string {
  return errorChain(err).map((e) => {
    const { code, apiId } = e as { code?: string; apiId?: string };
    return `${code ?? ""} ${apiId ?? ""} ${e.message}`;
  }).join(" | ");
}

/**
 * What the error chain alone tells: a sentence naming the setting, or undefined when the chain
 * is not specific (then `diagnoseKafkaError` can ask the broker).
 */
export function explainKafkaError(err: unknown, connection: KafkaConnection): string | undefined {
  if (err instanceof KafkaSetupError) return err.message;
  const text = chainText(err);
  const where = connection.brokers.join(",");
  const unknownTopic = /Unknown topic ([^\s|]+?)\.?(\s|$)/.exec(text);
  if (unknownTopic) return `Topic ${unknownTopic[1]} does not exist (auto-creation is off)`;
  const iam = connection.sasl?.mechanism === "aws-msk-iam" ? connection.sasl : undefined;
  if (iam) {
    // The token could not be made: the credential chain's or the signer's own words.
    const unsigned = errorChain(err).find((e) =>
      e.name === "CredentialsError" || e.name === "MskIamTokenError"
    );
    if (unsigned) return `KAFKA_SASL_MECHANISM=aws-msk-iam: ${unsigned.message}`;
  }
  // A refused OAUTHBEARER token: the broker answers `{"status":"invalid_token"}` as a challenge;
  // @platformatic/kafka 2.12 reports it and then goes on as if authenticated, so what reaches
  // us is often the broker's answer to the next request: "not valid given the current SASL state".
  const refusedToken = iam && /current SASL state|ILLEGAL_SASL_STATE|invalid_token/.test(text);
  if (
    refusedToken ||
    /SASL authentication failed|SASL_AUTHENTICATION_FAILED|SASL\/OAUTHBEARER/.test(text)
  ) {
    if (iam) {
      return "Kafka refused the MSK IAM token (KAFKA_SASL_MECHANISM=aws-msk-iam): check that " +
        `AWS_REGION=${iam.region} is the cluster's region and that the AWS credentials ` +
        "(the role) are allowed kafka-cluster:Connect on the cluster";
    }
    return "Kafka refused the SASL login: check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD " +
      `(KAFKA_SASL_MECHANISM=${connection.sasl?.mechanism})`;
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|getaddrinfo|failed to lookup/.test(text)) {
    const last = errorChain(err).at(-1)?.message ?? text;
    return `Cannot connect to KAFKA_BROKERS=${where}: ${last}`;
  }
  return undefined;
}

/**
 * Like `explainKafkaError`, and when the chain names nothing, a TLS handshake with the first
 * broker tells whether TLS, its CA or its host name is the problem.
 */
export async function diagnoseKafkaError(
  err: unknown,
  connection: KafkaConnection,
  probe: typeof probeTls = probeTls,
): Promise<string> {
  const known = explainKafkaError(err, connection);
  if (known) return known;
  const broker = connection.brokers[0]!;
  const tls = connection.tls;
  const result: TlsProbeResult = await probe(broker, { ca: tls?.ca, servername: tls?.servername });
  const fallback = errorChain(err).at(-1)?.message ?? String(err);
  if (tls) {
    switch (result.kind) {
      case "not_tls":
        return `${broker} does not speak TLS (a plaintext port?), but KAFKA_SSL=true`;
      case "unknown_ca":
        return `The certificate of ${broker} is not signed by a CA we trust: set ` +
          `KAFKA_SSL_CA_FILE to the CA that signed it${
            tls.ca ? " (the file given holds another CA)" : " (the system store lacks it)"
          }`;
      case "bad_name":
        return `The certificate of ${broker} does not carry the name ${
          tls.servername ? `KAFKA_SSL_SERVERNAME=${tls.servername}` : "in KAFKA_BROKERS"
        }: set KAFKA_SSL_SERVERNAME to a name it carries (${result.message})`;
      case "unreachable":
        return `Cannot connect to KAFKA_BROKERS=${connection.brokers.join(",")}: ${result.message}`;
      default:
        return `Kafka at ${broker} failed after the TLS handshake: ${fallback}`;
    }
  }
  if (result.kind === "ok" || result.kind === "unknown_ca" || result.kind === "bad_name") {
    return `${broker} speaks TLS: set KAFKA_SSL=true (and KAFKA_SSL_CA_FILE if its CA is private)`;
  }
  if (connection.sasl && /SASL mechanism/.test(chainText(err))) {
    return `${broker} does not offer KAFKA_SASL_MECHANISM=${connection.sasl.mechanism}`;
  }
  return fallback;
}

/**
 * True for the errors a group member meets in a routine rebalance or coordinator move (a
 * commit refused for an old generation, a coordinator loading): they are not worth a warning.
 */
export function isRoutineGroupError(err: unknown): boolean {
  return /REBALANCE_IN_PROGRESS|ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID|FENCED_INSTANCE_ID|NOT_COORDINATOR|COORDINATOR_LOAD_IN_PROGRESS|COORDINATOR_NOT_AVAILABLE|rebalanc/i
    .test(chainText(err));
}
