/**
 * AWS credentials for any program that signs AWS requests (the worker's S3 staging; the MSK
 * IAM token of every Kafka client, `msk_iam_token.ts`), from the standard chain, smallest first:
 *
 * 1. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`): static.
 * 2. The container credentials endpoint (ECS task role, EKS Pod Identity):
 *    `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` on `169.254.170.2`, or
 *    `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read
 *    at every refresh: it rotates) or `AWS_CONTAINER_AUTHORIZATION_TOKEN` as `Authorization`.
 * 3. EC2 instance metadata, IMDSv2 only (a session token first), unless
 *    `AWS_EC2_METADATA_DISABLED=true`.
 *
 * The source is chosen by which variables are set, as the AWS SDKs do: a configured container
 * endpoint that fails is an error, not a reason to ask the instance instead. Temporary
 * credentials are cached and fetched again five minutes before they expire (or at once after
 * `invalidate()`, when AWS said the token expired); concurrent callers share one fetch.
 *
 * Nothing here logs: errors name the source and the HTTP status, never a key, a token or an
 * answer's body.
 */

/** One set of credentials for SigV4. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working; none for static keys. */
  expiration?: Date;
}

/** Where credentials come from. */
export type CredentialSource = "environment" | "container" | "instance";

/** The variables the chain reads (already parsed by the program's config). */
export interface CredentialSettings {
  AWS_ACCESS_KEY_ID?: string;
  AWS_SECRET_ACCESS_KEY?: string;
  AWS_SESSION_TOKEN?: string;
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI?: string;
  AWS_CONTAINER_CREDENTIALS_FULL_URI?: string;
  AWS_CONTAINER_AUTHORIZATION_TOKEN?: string;
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE?: string;
  AWS_EC2_METADATA_DISABLED?: boolean;
}

/** What the chain needs from outside (all injectable for tests). */
export interface CredentialDeps {
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. */
  now?: () => number;
  readTextFile?: (path: string) => Promise<string>;
  /** Bound on each HTTP request to an endpoint (default 2 s). */
  timeoutMs?: number;
}

/** Gives current credentials. */
export interface CredentialProvider {
  /** The source the settings select. */
  readonly source: CredentialSource;
  /**
   * Current credentials, fetched when none are cached or they expire within five minutes.
   * Callers ask again for every signature rather than keeping the answer: the chain caches.
   * @throws {CredentialsError} when the source does not answer with credentials.
   */
  get(): Promise<AwsCredentials>;
  /** Forgets cached credentials (AWS answered `ExpiredToken`): the next `get()` fetches. */
  invalidate(): void;
}

/** The chain could not get credentials; the message names the source, never a secret. */
export class CredentialsError extends Error {
  override name = "CredentialsError";
}

/** The ECS agent's address for `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`. */
export const ECS_CREDENTIALS_HOST = "http://169.254.170.2";
/** EC2 instance metadata. */
export const IMDS_HOST = "http://169.254.169.254";
const REFRESH_MARGIN_MS = 5 * 60_000;
/**
 * Hosts the SDKs accept for a plain-HTTP `AWS_CONTAINER_CREDENTIALS_FULL_URI` (loopback, the
 * ECS and EKS Pod Identity agents): the authorization token must not travel in clear text
 * anywhere else.
 */
const PLAIN_HTTP_HOSTS = new Set([
  "127.0.0.1",
  "localhost",
  "[::1]",
  "169.254.170.2",
  "169.254.170.23",
  "[fd00:ec2::23]",
]);

/**
 * The source `settings` select, or undefined when none is configured (instance metadata
 * disabled and no keys or container endpoint).
 */
export function credentialSource(settings: CredentialSettings): CredentialSource | undefined {
  if (settings.AWS_ACCESS_KEY_ID && settings.AWS_SECRET_ACCESS_KEY) return "environment";
  if (
    settings.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || settings.AWS_CONTAINER_CREDENTIALS_FULL_URI
  ) {
    return "container";
  }
  return settings.AWS_EC2_METADATA_DISABLED ? undefined : "instance";
}

/**
 * Creates the chain for `settings`.
 * @throws {CredentialsError} when no source is configured, or a plain-HTTP
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI` points at a host other than loopback or an AWS agent.
 */
export function createCredentialChain(
  settings: CredentialSettings,
  deps: CredentialDeps = {},
): CredentialProvider {
  const source = credentialSource(settings);
  if (source === undefined) {
    throw new CredentialsError(
      "Cannot find AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run with " +
        "a container credentials endpoint, or allow EC2 instance metadata",
    );
  }
  const fetchFn = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const readTextFile = deps.readTextFile ?? Deno.readTextFile;
  const timeoutMs = deps.timeoutMs ?? 2_000;
  const request = async (what: string, url: string, init: RequestInit = {}) => {
    let response: Response;
    try {
      response = await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      throw new CredentialsError(
        `Cannot get AWS credentials from ${what}: ${
          cause instanceof Error ? cause.message : String(cause)
        }`,
        { cause },
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new CredentialsError(
        `Cannot get AWS credentials from ${what}: HTTP ${response.status}`,
      );
    }
    return response;
  };

  let fetchOnce: () => Promise<AwsCredentials>;
  if (source === "environment") {
    const fixed: AwsCredentials = {
      accessKeyId: settings.AWS_ACCESS_KEY_ID!,
      secretAccessKey: settings.AWS_SECRET_ACCESS_KEY!,
      ...(settings.AWS_SESSION_TOKEN ? { sessionToken: settings.AWS_SESSION_TOKEN } : {}),
    };
    fetchOnce = () => Promise.resolve(fixed);
  } else if (source === "container") {
    const url = _containerUrl(settings);
    fetchOnce = async () => {
      const headers = new Headers();
      const token = settings.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
        ? (await readTextFile(settings.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)).trim()
        : settings.AWS_CONTAINER_AUTHORIZATION_TOKEN;
      if (token) headers.set("authorization", token);
      const answer = await request("the container endpoint", url, { headers });
      return _parseCredentials(
        await _json(answer, "the container endpoint"),
        "the container endpoint",
      );
    };
  } else {
    fetchOnce = async () => {
      const what = "EC2 instance metadata";
      const token = await (await request(what, `${IMDS_HOST}/latest/api/token`, {
        method: "PUT",
        headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" },
      })).text();
      const headers = { "x-aws-ec2-metadata-token": token };
      const base = `${IMDS_HOST}/latest/meta-data/iam/security-credentials/`;
      const role = (await (await request(what, base, { headers })).text()).split("\n")[0]?.trim();
      if (!role) throw new CredentialsError(`Cannot get AWS credentials from ${what}: no role`);
      const answer = await _json(
        await request(what, base + encodeURIComponent(role), { headers }),
        what,
      );
      if (answer.Code !== undefined && answer.Code !== "Success") {
        throw new CredentialsError(
          `Cannot get AWS credentials from ${what}: Code ${String(answer.Code).slice(0, 64)}`,
        );
      }
      return _parseCredentials(answer, what);
    };
  }

  let cached: AwsCredentials | undefined;
  let pending: Promise<AwsCredentials> | undefined;
  const fresh = (c: AwsCredentials) =>
    c.expiration === undefined || c.expiration.getTime() - now() > REFRESH_MARGIN_MS;
  return {
    source,
    get() {
      if (cached && fresh(cached)) return Promise.resolve(cached);
      pending ??= fetchOnce().then((c) => {
        cached = c;
        return c;
      }).finally(() => pending = undefined);
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

function _containerUrl(settings: CredentialSettings): string {
  if (settings.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
    return ECS_CREDENTIALS_HOST + settings.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  }
  const full = settings.AWS_CONTAINER_CREDENTIALS_FULL_URI!;
  let url: URL;
  try {
    url = new URL(full);
  } catch {
    throw new CredentialsError("Cannot parse AWS_CONTAINER_CREDENTIALS_FULL_URI: not a URL");
  }
  if (url.protocol === "https:") return full;
  if (url.protocol === "http:" && PLAIN_HTTP_HOSTS.has(url.hostname)) return full;
  throw new CredentialsError(
    "Cannot use AWS_CONTAINER_CREDENTIALS_FULL_URI: plain HTTP only to loopback or an AWS " +
      `credentials agent, not ${url.hostname}`,
  );
}

async function _json(response: Response, what: string): Promise<Record<string, unknown>> {
  try {
    const value = await response.json();
    if (typeof value === "object" && value !== null) return value as Record<string, unknown>;
  } catch { /* reported below */ }
  throw new CredentialsError(`Cannot get AWS credentials from ${what}: the answer is not JSON`);
}

function _parseCredentials(answer: Record<string, unknown>, what: string): AwsCredentials {
  const text = (key: string) => typeof answer[key] === "string" ? answer[key] as string : "";
  if (!text("AccessKeyId") || !text("SecretAccessKey")) {
    throw new CredentialsError(
      `Cannot get AWS credentials from ${what}: the answer has no AccessKeyId and SecretAccessKey`,
    );
  }
  const expiration = text("Expiration") ? new Date(text("Expiration")) : undefined;
  if (expiration && Number.isNaN(expiration.getTime())) {
    throw new CredentialsError(`Cannot get AWS credentials from ${what}: bad Expiration`);
  }
  return {
    accessKeyId: text("AccessKeyId"),
    secretAccessKey: text("SecretAccessKey"),
    ...(text("Token") ? { sessionToken: text("Token") } : {}),
    ...(expiration ? { expiration } : {}),
  };
}
