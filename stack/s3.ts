/**
 * A real S3 API server for tests: moto's standalone server (PyPI `moto`, the S3 and server
 * parts only), installed from PyPI into a virtual environment in the stack's cache, run on a
 * free loopback port.
 *
 * - `ensureMoto()` installs it once (`python_venv.ts`: a venv in the cache) from the pinned set
 *   in `moto_requirements.txt` (about 25 s, 140 MB).
 * - `startS3Server()` starts it with request authentication on after the bootstrap calls
 *   (`INITIAL_NO_AUTH_ACTION_COUNT`), so every later request must carry a valid SigV4
 *   signature of a key moto knows and be allowed by that key's IAM policy: a wrong signature
 *   is `SignatureDoesNotMatch`, a key outside its policy `AccessDenied`, as with AWS. (moto does
 *   not check `x-amz-content-sha256` against the body.)
 * - `bootstrapS3()` makes the bucket and two IAM users: `worker`, with only the staging
 *   policy the worker needs in AWS (put and delete under the prefix), and `reader`, for the
 *   tests' own reads (get and list).
 */
import { AwsClient } from "aws4fetch";
import { ensurePythonTool } from "./python_venv.ts";
import {
  freePort,
  isListening,
  spawnDetached,
  StackError,
  stopPid,
  tailFile,
  waitFor,
} from "./_process.ts";

/** The pinned moto release (the rest of the set is in `moto_requirements.txt`). */
export const MOTO_VERSION = "5.2.5";
/** The region the test server signs for. */
export const S3_TEST_REGION = "us-east-1";
/** The calls `bootstrapS3` makes before authentication starts. */
const BOOTSTRAP_CALLS = 7;

/**
 * Makes sure moto is installed in the cache; returns the venv's `python`.
 * @throws {StackError} when python3, its venv module or pip is missing, or pip fails.
 */
export function ensureMoto(): Promise<string> {
  return ensurePythonTool({
    package: "moto",
    version: MOTO_VERSION,
    purpose: "the tests' S3 server",
    requirements: new URL("./moto_requirements.txt", import.meta.url),
  });
}

/** A running moto server. */
export interface MotoServer {
  pid: number;
  port: number;
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  logFile: string;
}

/**
 * Starts moto on a free loopback port, logging to `<dir>/moto.log`; authentication starts
 * after `bootstrapS3`'s calls.
 * @throws {StackError} when it cannot be installed or does not listen within 30 s.
 */
export async function startS3Server(dir: string): Promise<MotoServer> {
  const python = await ensureMoto();
  await Deno.mkdir(dir, { recursive: true });
  const port = freePort();
  const logFile = `${dir}/moto.log`;
  const pid = await spawnDetached(
    python,
    ["-m", "moto.server", "--host", "127.0.0.1", "--port", String(port)],
    logFile,
    { env: { INITIAL_NO_AUTH_ACTION_COUNT: String(BOOTSTRAP_CALLS), PYTHONUNBUFFERED: "1" } },
  );
  if (!(await waitFor(() => isListening(port), 30_000))) {
    await stopPid(pid, 2_000);
    throw new StackError(
      `moto did not listen on 127.0.0.1:${port} within 30 s. Last lines of ${logFile}:\n${await tailFile(
        logFile,
      )}`,
    );
  }
  return { pid, port, endpoint: `http://127.0.0.1:${port}`, logFile };
}

/** Stops the server (SIGTERM, then SIGKILL). */
export async function stopS3Server(server: MotoServer): Promise<void> {
  await stopPid(server.pid, 5_000);
}

/** An access key moto issued. */
export interface S3Key {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What `bootstrapS3` made. */
export interface S3Bootstrap {
  /** May only put and delete objects under the prefix: the worker's policy. */
  worker: S3Key;
  /** May get objects and list the bucket: for the tests' checks. */
  reader: S3Key;
}

/**
 * The IAM policy the worker needs on the staging bucket (KMS aside): put and delete its own
 * objects under `prefix`, nothing else. The Terraform notes in docs/deploy.md give the same.
 */
export function stagingPolicy(bucket: string, prefix: string): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [{
      Sid: "WriteStagedFiles",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:DeleteObject"],
      Resource: `arn:aws:s3:::${bucket}/${prefix}*`,
    }],
  };
}

/**
 * Creates `bucket` and the `worker` and `reader` users with their keys, before moto starts
 * checking signatures (exactly `BOOTSTRAP_CALLS` requests).
 * @throws {StackError} when moto refuses one of them.
 */
export async function bootstrapS3(
  server: MotoServer,
  bucket: string,
  prefix: string,
): Promise<S3Bootstrap> {
  // Before authentication starts any key is accepted; these are placeholders.
  const anyKey = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "bootstrap" };
  const call = async (
    service: "s3" | "iam",
    path: string,
    init: { method: string; headers?: Record<string, string>; body?: string },
  ) => {
    const client = new AwsClient({ ...anyKey, service, region: S3_TEST_REGION, retries: 0 });
    const response = await client.fetch(`${server.endpoint}${path}`, init);
    const text = await response.text();
    if (!response.ok) {
      throw new StackError(`moto refused ${init.method} ${path}: ${response.status} ${text}`);
    }
    return text;
  };
  const iam = (params: Record<string, string>) =>
    call("iam", "/", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...params, Version: "2010-05-08" }).toString(),
    });
  const user = async (name: string, policy: Record<string, unknown>): Promise<S3Key> => {
    await iam({ Action: "CreateUser", UserName: name });
    const answer = await iam({ Action: "CreateAccessKey", UserName: name });
    await iam({
      Action: "PutUserPolicy",
      UserName: name,
      PolicyName: `${name}-staging`,
      PolicyDocument: JSON.stringify(policy),
    });
    const accessKeyId = /<AccessKeyId>([^<]+)</.exec(answer)?.[1];
    const secretAccessKey = /<SecretAccessKey>([^<]+)</.exec(answer)?.[1];
    if (!accessKeyId || !secretAccessKey) throw new StackError("moto gave no access key");
    return { accessKeyId, secretAccessKey };
  };
  await call("s3", `/${bucket}`, { method: "PUT" });
  const worker = await user("worker", stagingPolicy(bucket, prefix));
  const reader = await user("reader", {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["s3:ListBucket"], Resource: `arn:aws:s3:::${bucket}` },
      { Effect: "Allow", Action: ["s3:GetObject"], Resource: `arn:aws:s3:::${bucket}/*` },
    ],
  });
  return { worker, reader };
}

/** Signed reads with the `reader` key, for tests: one object, and the keys under a prefix. */
export function s3Reader(server: MotoServer, bucket: string, key: S3Key): {
  get(objectKey: string): Promise<Uint8Array>;
  list(prefix: string): Promise<string[]>;
} {
  const client = new AwsClient({ ...key, service: "s3", region: S3_TEST_REGION, retries: 0 });
  const fetchOk = async (url: string) => {
    const response = await client.fetch(url);
    if (!response.ok) {
      throw new StackError(`GET ${url}: ${response.status} ${await response.text()}`);
    }
    return response;
  };
  return {
    async get(objectKey) {
      const response = await fetchOk(`${server.endpoint}/${bucket}/${objectKey}`);
      return new Uint8Array(await response.arrayBuffer());
    },
    async list(prefix) {
      // One page (up to 1,000 keys) is all a test makes.
      const query = new URLSearchParams({ "list-type": "2", prefix });
      const xml = await (await fetchOk(`${server.endpoint}/${bucket}?${query}`)).text();
      return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!);
    },
  };
}
