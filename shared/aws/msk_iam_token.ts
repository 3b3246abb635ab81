/**
 * The token of Amazon MSK's IAM authentication, for SASL OAUTHBEARER.
 *
 * MSK takes as OAUTHBEARER token the base64url (no padding) of a SigV4 query-presigned URL:
 * `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect`, signed for the
 * service `kafka-cluster` in the cluster's region, with `X-Amz-Expires=900`, and an unsigned
 * `User-Agent` query parameter added after signing. The broker checks the signature and the
 * principal's IAM policy (`kafka-cluster:Connect` and the rest). The token holds the session
 * token but no secret key; still, it is a bearer credential for up to 15 minutes: never log it.
 *
 * AWS's own signers (`aws-msk-iam-sasl-signer-js`, `aws-msk-iam-sasl-signer-python`) make this
 * URL; `msk_iam_token_oracle_stack_test.ts` compares ours with the JavaScript one, parameter by
 * parameter, signature included. Two differences, on purpose:
 * - `User-Agent` is `user-pipeline` (`MSK_IAM_USER_AGENT`); AWS's signers send their own name
 *   and version (`aws-msk-iam-sasl-signer-js/1.0.3`). It is outside the signature.
 * - The JavaScript signer shortens `X-Amz-Expires` to what is left of temporary credentials
 *   (to a fraction of a second); we keep 900, as the Python signer does, and say in `expiresAt`
 *   when the token stops working: at the earlier of the signature's end and the credentials'.
 *
 * How the Kafka layer uses it: SASL mechanism `OAUTHBEARER`, with the function from
 * `createMskIamTokenProvider` as the token source (`@platformatic/kafka`'s
 * `sasl: { mechanism: "OAUTHBEARER", token }` takes a `() => Promise<string>`), so that it is
 * called on every authentication and re-authentication: a new connection, and KIP-368's
 * re-authentication when the broker gives the session a lifetime (`@platformatic/kafka`
 * re-authenticates at 80 % of it). Never pass one token string: it stops working after 15 minutes. The provider
 * caches; calling it is cheap. Wire it where the Kafka client is built, not in a module that a
 * pure stage loads (this file loads `aws4fetch`; see tools/layering_rules.ts).
 *
 * @example
 * ```ts
 * import type { Logger } from "../logger.ts";
 * import { createCredentialChain, type CredentialSettings } from "./credentials.ts";
 * declare const config: CredentialSettings & { AWS_REGION: string }, logger: Logger;
 *
 * const chain = createCredentialChain(config);
 * const token = createMskIamTokenProvider({
 *   region: config.AWS_REGION,
 *   credentials: () => chain.get(),
 *   logger,
 * });
 * // The Kafka client's options: sasl: { mechanism: "OAUTHBEARER", token }
 * ```
 *
 * @module
 */
import { AwsV4Signer } from "aws4fetch";
import type { Logger } from "../logger.ts";
import { type AwsCredentials, CredentialsError } from "./credentials.ts";

/** How long a token's signature is valid (`X-Amz-Expires`), as AWS's signers sign it. */
export const MSK_IAM_TOKEN_SECONDS = 900;
/** A cached token is replaced when it has less than this left (five minutes). */
export const MSK_IAM_RENEW_BEFORE_MS = 5 * 60_000;
/** When a renewal fails, a cached token with at least this left is still given (one minute). */
export const MSK_IAM_FALLBACK_MIN_MS = 60_000;
/** The `User-Agent` query parameter (unsigned; AWS's signers put their name and version). */
export const MSK_IAM_USER_AGENT = "user-pipeline";

const SERVICE = "kafka-cluster";
const ACTION = "kafka-cluster:Connect";
const REGION = /^[a-z]{2,}(?:-[a-z0-9]+)+$/;

/** A token could not be made; the message names the region and the credentials' source. */
export class MskIamTokenError extends Error {
  override name = "MskIamTokenError";
}

/** A token, and when it stops working. */
export interface MskIamToken {
  /** The OAUTHBEARER token: base64url, without padding, of the presigned URL. */
  token: string;
  /**
   * The earlier of the signature's end (`X-Amz-Date` + 900 s) and the credentials'
   * `expiration`.
   */
  expiresAt: Date;
}

/** What `mskIamToken` signs with. */
export interface MskIamTokenOptions {
  /** The cluster's region, e.g. `eu-west-1`. */
  region: string;
  /** `expiration`, when given, bounds `expiresAt`. */
  credentials: AwsCredentials;
  /** The signing time (`X-Amz-Date`, to the second). */
  now: Date;
}

/**
 * Makes the MSK IAM token for `region`, signed with `credentials` at `now`.
 * @throws {MskIamTokenError} when the region is not a region name or the credentials are empty.
 * @example
 * ```ts
 * const { token, expiresAt } = await mskIamToken({
 *   region: "eu-west-1",
 *   credentials: { accessKeyId: "AKIA…", secretAccessKey: "…" },
 *   now: new Date(),
 * });
 * ```
 */
export async function mskIamToken(options: MskIamTokenOptions): Promise<MskIamToken> {
  const { region, credentials, now } = options;
  _checkRegion(region);
  if (!credentials.accessKeyId || !credentials.secretAccessKey) {
    throw new MskIamTokenError(
      `Cannot make the MSK IAM token for ${region}: the AWS credentials have no access key id ` +
        "or secret access key",
    );
  }
  const signingSecond = Math.floor(now.getTime() / 1000) * 1000;
  const url = new URL(`https://kafka.${region}.amazonaws.com/`);
  url.searchParams.set("Action", ACTION);
  // aws4fetch sets X-Amz-Expires itself only for S3; it signs what the URL holds.
  url.searchParams.set("X-Amz-Expires", String(MSK_IAM_TOKEN_SECONDS));
  const signer = new AwsV4Signer({
    method: "GET",
    url: url.href,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    service: SERVICE,
    region,
    datetime: new Date(signingSecond).toISOString().replace(/[:-]|\.\d{3}/g, ""),
    signQuery: true,
  });
  const signed = (await signer.sign()).url;
  // Added after signing, as AWS's signers do: not part of the signature.
  signed.searchParams.set("User-Agent", MSK_IAM_USER_AGENT);
  // In name order, as AWS's JavaScript signer writes them, so that the two tokens differ in
  // User-Agent only. (SigV4 sorts the query before signing: the order is not signed.)
  signed.searchParams.sort();
  const signatureEnds = signingSecond + MSK_IAM_TOKEN_SECONDS * 1000;
  const credentialsEnd = credentials.expiration?.getTime() ?? Infinity;
  return {
    token: _base64Url(signed.href),
    expiresAt: new Date(Math.min(signatureEnds, credentialsEnd)),
  };
}

/** What `createMskIamTokenProvider` needs. */
export interface MskIamTokenProviderOptions {
  /** The cluster's region. */
  region: string;
  /**
   * Current credentials, asked for at each renewal: `() => chain.get()` of
   * `createCredentialChain`, which caches them and fetches new ones before they expire.
   */
  credentials: () => Promise<AwsCredentials>;
  /** The clock (default: the system's). */
  now?: () => Date;
  /** Renewals are logged at debug level; a failed renewal that falls back, at warn. */
  logger?: Logger;
}

/**
 * Creates the token source for the Kafka client's SASL OAUTHBEARER: a function that gives a
 * token valid for at least five more minutes. It makes a new one (with credentials asked for
 * again) when the cached one has less left; concurrent callers share one renewal. When a
 * renewal fails while the cached token has more than a minute left, it gives that token and
 * logs a warning, so a passing hiccup of the credentials endpoint does not fail a
 * re-authentication; a failure is not cached, the next call tries again.
 * @throws {MskIamTokenError} at once when the region is not a region name; from the returned
 * function when credentials cannot be had (the message names their source).
 * @example
 * ```ts
 * import type { CredentialProvider } from "./credentials.ts";
 * declare const chain: CredentialProvider;
 *
 * const token = createMskIamTokenProvider({ region: "eu-west-1", credentials: () => chain.get() });
 * const bearer = await token(); // on every SASL (re-)authentication
 * ```
 */
export function createMskIamTokenProvider(
  options: MskIamTokenProviderOptions,
): () => Promise<string> {
  const { region, credentials } = options;
  _checkRegion(region);
  const now = options.now ?? (() => new Date());
  const log = options.logger?.child({ component: "msk-iam-token" });
  let cached: MskIamToken | undefined;
  let pending: Promise<string> | undefined;
  const left = (t: MskIamToken) => t.expiresAt.getTime() - now().getTime();

  const getCredentials = async (): Promise<AwsCredentials> => {
    try {
      return await credentials();
    } catch (cause) {
      // The chain's errors name their source; another provider's may not.
      const reason = cause instanceof CredentialsError
        ? cause.message
        : "Cannot get AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the " +
          "container credentials endpoint, or EC2 instance metadata): " +
          (cause instanceof Error ? cause.message : String(cause));
      throw new MskIamTokenError(`Cannot make the MSK IAM token for ${region}: ${reason}`, {
        cause,
      });
    }
  };

  const renew = async (): Promise<string> => {
    try {
      const made = await mskIamToken({ region, credentials: await getCredentials(), now: now() });
      cached = made;
      log?.debug("made an MSK IAM token", { region, expiresAt: made.expiresAt.toISOString() });
      return made.token;
    } catch (err) {
      if (cached && left(cached) >= MSK_IAM_FALLBACK_MIN_MS) {
        log?.warn("cannot renew the MSK IAM token; using the current one until it nears its end", {
          region,
          error: err instanceof Error ? err.message : String(err),
          expiresAt: cached.expiresAt.toISOString(),
        });
        return cached.token;
      }
      throw err;
    }
  };

  return () => {
    if (cached && left(cached) > MSK_IAM_RENEW_BEFORE_MS) return Promise.resolve(cached.token);
    pending ??= renew().finally(() => pending = undefined);
    return pending;
  };
}

function _checkRegion(region: string): void {
  // The region becomes the host name: nothing else may slip into the URL.
  if (!REGION.test(region)) {
    throw new MskIamTokenError(
      `Cannot make the MSK IAM token: ${JSON.stringify(region.slice(0, 64))} is not a region ` +
        "name (expected e.g. eu-west-1)",
    );
  }
}

/** base64url without padding of an ASCII string (a URL's `href` is ASCII). */
function _base64Url(ascii: string): string {
  return btoa(ascii).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
