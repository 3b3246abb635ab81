/**
 * How every program reaches Kafka: the same `KAFKA_*` connection variables in the ingest, the
 * worker and redrive, validated together, and turned into client options with the PEM files
 * read once at start.
 *
 * Managed Kafka needs TLS and SASL: Amazon MSK (TLS, SASL/SCRAM-SHA-512, IAM or mutual TLS; MSK
 * Serverless: IAM only), Confluent Cloud (TLS, SASL/PLAIN), Aiven (TLS with the project CA, SCRAM
 * or mutual TLS), Redpanda Cloud (TLS, SCRAM).
 *
 * `KAFKA_SASL_MECHANISM=aws-msk-iam` is SASL OAUTHBEARER carrying MSK's IAM token
 * (`shared/aws/msk_iam_token.ts`), signed with credentials from the AWS chain
 * (`shared/aws/credentials.ts`: the `AWS_*` variables, the container endpoint, IMDSv2) for
 * `AWS_REGION`. The connection holds only those settings (plain data); each client makes its
 * token source from them (`client_options.ts`).
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { loadConfig } from "../config.ts";
 *
 * const schema = z.object({ ...kafkaConnectionSchema, KAFKA_TOPIC: z.string() });
 * const config = loadConfig(withKafkaChecks(schema), (k) => Deno.env.get(k));
 * const connection = await kafkaConnection(config, "ingest");
 * ```
 */
import { z } from "zod";
import { ConfigError, env } from "../config.ts";
import { awsSettingsSchema } from "../aws/settings.ts";
import { type CredentialSettings, credentialSource } from "../aws/credentials.ts";

/** The SASL mechanisms we configure, by their variable value. */
export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512", "aws-msk-iam"] as const;
/** A SASL mechanism, as `KAFKA_SASL_MECHANISM` names it. */
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** The connection variables; spread into a program's own config schema. */
export const kafkaConnectionSchema = {
  /** Kafka bootstrap servers, comma-separated `host:port`. */
  KAFKA_BROKERS: env.hostPorts(),
  /** TLS to the brokers. */
  KAFKA_SSL: env.bool().default(false),
  /** PEM bundle of the CAs to trust instead of the system store. */
  KAFKA_SSL_CA_FILE: z.string().optional(),
  /** PEM client certificate, for mutual TLS (with `KAFKA_SSL_KEY_FILE`). */
  KAFKA_SSL_CERT_FILE: z.string().optional(),
  /** PEM private key of the client certificate. */
  KAFKA_SSL_KEY_FILE: z.string().optional(),
  /** The name the broker certificates must carry (SNI), when it is not the host in KAFKA_BROKERS. */
  KAFKA_SSL_SERVERNAME: z.string().optional(),
  /** `plain`, `scram-sha-256`, `scram-sha-512` or `aws-msk-iam`; unset: no SASL. */
  KAFKA_SASL_MECHANISM: z.enum(SASL_MECHANISMS).optional(),
  /** SASL user name. */
  KAFKA_SASL_USERNAME: z.string().optional(),
  /** SASL password (never logged). */
  KAFKA_SASL_PASSWORD: z.string().optional(),
  /** The region and credentials of `aws-msk-iam` (and of the worker's S3 staging). */
  ...awsSettingsSchema,
};

const connectionObject = z.object(kafkaConnectionSchema);
/** The connection variables after parsing (those with a default may be left out). */
export type KafkaConnectionConfig =
  & Omit<z.output<typeof connectionObject>, "AWS_EC2_METADATA_DISABLED">
  & { AWS_EC2_METADATA_DISABLED?: boolean };

/** The connection variable names, for `--allow-env` lists and docs. */
export const KAFKA_CONNECTION_VARIABLES = Object.keys(kafkaConnectionSchema);

/**
 * Adds the checks between the connection variables (each names the variable to fix): TLS files
 * without `KAFKA_SSL=true`, a certificate without its key, SASL without a user or password.
 */
export function withKafkaChecks<S extends z.ZodObject>(schema: S): S {
  return schema.superRefine((raw, ctx) => {
    const c = raw as unknown as KafkaConnectionConfig;
    const problem = (variable: keyof KafkaConnectionConfig, message: string) =>
      ctx.addIssue({ code: "custom", path: [variable], message });
    if (!c.KAFKA_SSL) {
      for (const key of tlsOnly) {
        if (c[key] !== undefined) problem(key, "is set, but KAFKA_SSL is not true");
      }
    }
    if (c.KAFKA_SSL_CERT_FILE !== undefined && c.KAFKA_SSL_KEY_FILE === undefined) {
      problem("KAFKA_SSL_KEY_FILE", "required with KAFKA_SSL_CERT_FILE (mutual TLS)");
    }
    if (c.KAFKA_SSL_KEY_FILE !== undefined && c.KAFKA_SSL_CERT_FILE === undefined) {
      problem("KAFKA_SSL_CERT_FILE", "required with KAFKA_SSL_KEY_FILE (mutual TLS)");
    }
    if (c.AWS_ACCESS_KEY_ID !== undefined && c.AWS_SECRET_ACCESS_KEY === undefined) {
      problem("AWS_SECRET_ACCESS_KEY", "required with AWS_ACCESS_KEY_ID");
    }
    if (c.AWS_SECRET_ACCESS_KEY !== undefined && c.AWS_ACCESS_KEY_ID === undefined) {
      problem("AWS_ACCESS_KEY_ID", "required with AWS_SECRET_ACCESS_KEY");
    }
    if (c.KAFKA_SASL_MECHANISM === "aws-msk-iam") {
      const iam = "with KAFKA_SASL_MECHANISM=aws-msk-iam";
      if (!c.KAFKA_SSL) {
        problem("KAFKA_SSL", `must be true ${iam}: MSK takes IAM on its TLS port (9098)`);
      }
      for (const key of ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"] as const) {
        if (c[key] !== undefined) problem(key, `is set, but ${iam} the AWS credentials sign in`);
      }
      if (c.AWS_REGION === undefined && c.AWS_DEFAULT_REGION === undefined) {
        problem("AWS_REGION", `required ${iam}: the cluster's region (or AWS_DEFAULT_REGION)`);
      }
      if (credentialSource(c) === undefined) {
        problem(
          "AWS_EC2_METADATA_DISABLED",
          "is true, and neither AWS_ACCESS_KEY_ID nor a container credentials endpoint is set: " +
            `${iam} the token needs AWS credentials`,
        );
      }
    } else if (c.KAFKA_SASL_MECHANISM !== undefined) {
      if (!c.KAFKA_SASL_USERNAME) {
        problem(
          "KAFKA_SASL_USERNAME",
          `required with KAFKA_SASL_MECHANISM=${c.KAFKA_SASL_MECHANISM}`,
        );
      }
      if (!c.KAFKA_SASL_PASSWORD) {
        problem(
          "KAFKA_SASL_PASSWORD",
          `required with KAFKA_SASL_MECHANISM=${c.KAFKA_SASL_MECHANISM}`,
        );
      }
    } else {
      for (const key of ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"] as const) {
        if (c[key] !== undefined) problem(key, "is set, but KAFKA_SASL_MECHANISM is not");
      }
    }
  }) as unknown as S;
}

const tlsOnly = [
  "KAFKA_SSL_CA_FILE",
  "KAFKA_SSL_CERT_FILE",
  "KAFKA_SSL_KEY_FILE",
  "KAFKA_SSL_SERVERNAME",
] as const;

/** Everything a Kafka client of ours needs to connect, files already read; plain data, so it
 * can be posted to a Web Worker. */
export interface KafkaConnection {
  clientId: string;
  brokers: string[];
  tls?: { ca?: string; cert?: string; key?: string; servername?: string };
  sasl?:
    | { mechanism: Exclude<SaslMechanism, "aws-msk-iam">; username: string; password: string }
    | { mechanism: "aws-msk-iam"; region: string; credentials: CredentialSettings };
  /** The settings behind it, without the password, for logs. */
  summary: string;
}

/** Reads a file's text (injected so that unit tests need no files). */
export type ReadTextFile = (path: string) => Promise<string>;

/**
 * Reads the PEM files the settings name and returns the connection for `clientId`.
 * @throws {ConfigError} naming each file variable that cannot be read, with the folders the
 *   program may read when permission was the reason.
 */
export async function kafkaConnection(
  config: Readonly<KafkaConnectionConfig>,
  clientId: string,
  readTextFile: ReadTextFile = Deno.readTextFile,
): Promise<KafkaConnection> {
  const problems: { variable: string; message: string }[] = [];
  const read = async (
    variable: "KAFKA_SSL_CA_FILE" | "KAFKA_SSL_CERT_FILE" | "KAFKA_SSL_KEY_FILE",
  ) => {
    const path = config[variable];
    if (path === undefined) return undefined;
    try {
      const text = await readTextFile(path);
      if (!text.includes("-----BEGIN ")) {
        problems.push({ variable, message: `${path} holds no PEM block ("-----BEGIN …")` });
      }
      return text;
    } catch (err) {
      problems.push({ variable, message: fileProblem(path, err) });
      return undefined;
    }
  };
  const [ca, cert, key] = [
    await read("KAFKA_SSL_CA_FILE"),
    await read("KAFKA_SSL_CERT_FILE"),
    await read("KAFKA_SSL_KEY_FILE"),
  ];
  if (problems.length > 0) throw new ConfigError(problems);

  const tls = config.KAFKA_SSL
    ? { ca, cert, key, servername: config.KAFKA_SSL_SERVERNAME }
    : undefined;
  const mechanism = config.KAFKA_SASL_MECHANISM;
  const sasl: KafkaConnection["sasl"] = mechanism === "aws-msk-iam"
    ? {
      mechanism,
      region: (config.AWS_REGION ?? config.AWS_DEFAULT_REGION)!,
      credentials: awsCredentialSettings(config),
    }
    : mechanism
    ? { mechanism, username: config.KAFKA_SASL_USERNAME!, password: config.KAFKA_SASL_PASSWORD! }
    : undefined;
  const summary = [
    `KAFKA_BROKERS=${config.KAFKA_BROKERS.join(",")}`,
    `KAFKA_SSL=${config.KAFKA_SSL}`,
    ...(config.KAFKA_SSL_CA_FILE ? [`KAFKA_SSL_CA_FILE=${config.KAFKA_SSL_CA_FILE}`] : []),
    ...(sasl?.mechanism === "aws-msk-iam"
      ? [
        `KAFKA_SASL_MECHANISM=${sasl.mechanism}`,
        `AWS_REGION=${sasl.region}`,
        `credentials=${credentialSource(sasl.credentials)}`,
      ]
      : sasl
      ? [`KAFKA_SASL_MECHANISM=${sasl.mechanism}`, `KAFKA_SASL_USERNAME=${sasl.username}`]
      : []),
  ].join(" ");
  return {
    clientId,
    brokers: config.KAFKA_BROKERS,
    ...(tls ? { tls } : {}),
    ...(sasl ? { sasl } : {}),
    summary,
  };
}

/** The credential chain's variables out of the parsed config (unset ones left out). */
function awsCredentialSettings(config: Readonly<KafkaConnectionConfig>): CredentialSettings {
  const out: CredentialSettings = {
    AWS_EC2_METADATA_DISABLED: config.AWS_EC2_METADATA_DISABLED ?? false,
  };
  for (
    const key of [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
      "AWS_CONTAINER_CREDENTIALS_FULL_URI",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ] as const
  ) {
    if (config[key] !== undefined) out[key] = config[key];
  }
  return out;
}

function fileProblem(path: string, err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return `${path} does not exist`;
  if (err instanceof Deno.errors.NotCapable) {
    return `cannot read ${path}: the program was started without read permission for it`;
  }
  if (err instanceof Deno.errors.PermissionDenied) return `${path} is not readable by this user`;
  return `cannot read ${path}: ${(err as Error).message}`;
}
