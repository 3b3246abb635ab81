/**
 * The two S3 calls the staging needs, `PutObject` and `DeleteObject`, signed with SigV4 by
 * `aws4fetch` (a small, dependency-free signer on `fetch` and WebCrypto) and sent through an
 * injected `fetch`.
 *
 * - Addressing: virtual-hosted (`https://<bucket>.s3.<region>.amazonaws.com/<key>`) by default;
 *   path-style (`https://s3.<region>.amazonaws.com/<bucket>/<key>`) for a bucket name with
 *   dots, which the wildcard certificate does not cover; `endpoint` (an S3-compatible server,
 *   tests) is always path-style.
 * - A PUT signs its payload (`x-amz-content-sha256` is the body's SHA-256, not
 *   `UNSIGNED-PAYLOAD`), so S3 refuses a body changed on the way.
 * - `aws4fetch`'s own retries are off: the worker's retry loop owns retries and backoff.
 * - An answer saying the credentials expired drops the cached ones, so the next try fetches new.
 */
import { AwsClient } from "aws4fetch";
import type { CredentialProvider } from "../../shared/aws/credentials.ts";

/** Where the objects go. */
export interface S3Settings {
  bucket: string;
  region: string;
  /** An S3-compatible server's base URL (path-style addressing), e.g. `http://127.0.0.1:9000`. */
  endpoint?: string;
}

/** What the staging does with objects. */
export interface ObjectStore {
  /** `s3://<bucket>/<key>`, as COPY names it. */
  url(key: string): string;
  /** Uploads `body` as `key`. @throws {S3Error} */
  put(key: string, body: Uint8Array<ArrayBuffer>, contentType: string): Promise<void>;
  /** Deletes `key` (a missing key is no error, as in S3). @throws {S3Error} */
  delete(key: string): Promise<void>;
}

/** A failed S3 request: status 0 when no answer came. Holds no credentials. */
export class S3Error extends Error {
  override name = "S3Error";
  /** The HTTP status, or 0 for a network error or timeout. */
  readonly status: number;
  /** S3's error code (`AccessDenied`, `SlowDown`, …), when it sent one. */
  readonly s3Code: string | undefined;

  constructor(message: string, status: number, s3Code?: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.s3Code = s3Code;
  }
}

/** What `createS3Client` needs. */
export interface S3Deps {
  credentials: CredentialProvider;
  fetch?: typeof fetch;
  /** Bound on one request, answer included (default 120 s). */
  timeoutMs?: number;
}

const EXPIRED = new Set(["ExpiredToken", "InvalidToken", "TokenRefreshRequired"]);

/** Creates a client for `settings.bucket`. */
export function createS3Client(settings: S3Settings, deps: S3Deps): ObjectStore {
  const fetchFn = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? 120_000;
  const base = _baseUrl(settings);
  // aws4fetch keeps derived signing keys here (one per secret, day and region).
  const signingKeys = new Map();

  const send = async (
    what: string,
    key: string,
    init: { method: string; headers?: Record<string, string>; body?: Uint8Array<ArrayBuffer> },
  ): Promise<void> => {
    const credentials = await deps.credentials.get();
    const signer = new AwsClient({
      ...credentials,
      service: "s3",
      region: settings.region,
      cache: signingKeys,
      retries: 0,
    });
    const request = await signer.sign(base + _encodeKey(key), init);
    let response: Response;
    try {
      response = await fetchFn(request, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new S3Error(`Cannot ${what} s3://${settings.bucket}/${key}: ${reason}`, 0, undefined, {
        cause,
      });
    }
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const text = await response.text().catch(() => "");
    const code = /<Code>([^<]{1,64})<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]{1,300})<\/Message>/.exec(text)?.[1];
    if (code && EXPIRED.has(code)) deps.credentials.invalidate();
    throw new S3Error(
      `Cannot ${what} s3://${settings.bucket}/${key}: HTTP ${response.status}` +
        (code ? ` ${code}` : "") + (message ? `: ${message}` : ""),
      response.status,
      code,
    );
  };

  return {
    url: (key) => `s3://${settings.bucket}/${key}`,
    async put(key, body, contentType) {
      await send("upload", key, {
        method: "PUT",
        headers: {
          "content-type": contentType,
          "x-amz-content-sha256": await _sha256Hex(body),
        },
        body,
      });
    },
    async delete(key) {
      await send("delete", key, { method: "DELETE" });
    },
  };
}

function _baseUrl(s: S3Settings): string {
  if (s.endpoint) return `${s.endpoint.replace(/\/+$/, "")}/${s.bucket}/`;
  if (s.bucket.includes(".")) return `https://s3.${s.region}.amazonaws.com/${s.bucket}/`;
  return `https://${s.bucket}.s3.${s.region}.amazonaws.com/`;
}

/** Each path segment percent-encoded once (S3 signs the path as sent). */
function _encodeKey(key: string): string {
  return key.split("/").map((part) =>
    encodeURIComponent(part).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    )
  ).join("/");
}

async function _sha256Hex(body: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
