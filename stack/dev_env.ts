/**
 * The environment `deno task dev` hands to the ingest, the worker and the console: the stack's
 * connection settings, then safe local defaults, then whatever the caller's environment sets
 * (which wins).
 *
 * Safe means: every program listens on 127.0.0.1 only, and the webhook requires signatures with a
 * development secret kept in the stack's folder, so a plain `deno task dev` is neither open to the
 * network nor to unsigned writes.
 */

/** What dev sets unless the environment says otherwise. */
export const DEV_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  INGEST_HOST: "127.0.0.1",
  WORKER_HOSTNAME: "127.0.0.1",
  CONSOLE_HOST: "127.0.0.1",
});

/**
 * Merges the layers; the process environment wins over the dev secret, which wins over the
 * defaults and the stack's settings.
 */
export function devEnv(
  stackEnv: Record<string, string>,
  devSecret: string,
  processEnv: Record<string, string>,
): Record<string, string> {
  return { ...stackEnv, ...DEV_DEFAULTS, WEBHOOK_SECRET: devSecret, ...processEnv };
}

/**
 * The environment of one program (`ingest` or `worker`): `env`, and, unless it names one,
 * `OTEL_SERVICE_NAME=user-pipeline-<task>`, so that with `OTEL_DENO=true` the two programs'
 * spans are told apart.
 */
export function programEnv(task: string, env: Record<string, string>): Record<string, string> {
  return { OTEL_SERVICE_NAME: `user-pipeline-${task}`, ...env };
}

/**
 * The console's environment in dev: `env`, plus the URLs of the ingest and the worker that dev
 * started and the stack's warehouse (read-only transactions), unless `env` names others.
 */
export function consoleEnv(
  env: Record<string, string>,
  ingest: { host: string; port: number },
  worker: { host: string; port: number },
): Record<string, string> {
  return {
    CONSOLE_INGEST_URLS: `http://${ingest.host}:${ingest.port}`,
    CONSOLE_WORKER_URLS: `http://${worker.host}:${worker.port}`,
    ...(env.WAREHOUSE_URL ? { CONSOLE_WAREHOUSE_URL: env.WAREHOUSE_URL } : {}),
    ...env,
  };
}

/** Parses `KEY=value` lines (a `stack.env` or `dev.env` file); other lines are ignored. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && !line.startsWith("#")) env[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return env;
}

/** A new Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  const key = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...key))}`;
}

/**
 * The lines dev prints once the programs listen: where to send, how to sign, how to look. It
 * never prints the secret itself (a terminal's scroll-back, a screen share, a CI log): only
 * where it is kept, and how to use it from there.
 */
export function devBanner(info: {
  ingestHost: string;
  ingestPort: number;
  workerHost: string;
  workerPort: number;
  /** Where dev's generated secret is kept (`.stack/<name>/dev.env`). */
  secretFile: string;
  /** True when the caller's environment set `WEBHOOK_SECRET` (then the file's is not used). */
  secretFromEnvironment: boolean;
  unsigned: boolean;
  warehouseUrl: string;
  stackName: string;
  /** The console's URL. */
  consoleUrl: string;
}): string[] {
  const stackFlag = info.stackName === "local" ? "" : ` --name ${info.stackName}`;
  const signatures = info.unsigned
    ? "signatures: unsigned requests are accepted (INGEST_ALLOW_UNSIGNED=true); " +
      "a request with a wrong signature is still refused"
    : info.secretFromEnvironment
    ? "signatures: required, with the WEBHOOK_SECRET of your environment"
    : `signatures: required; the secret is WEBHOOK_SECRET in ${info.secretFile}: ` +
      `WEBHOOK_SECRET="$(sed -n 's/^WEBHOOK_SECRET=//p' ${info.secretFile})" deno task load`;
  return [
    `ingest: http://${info.ingestHost}:${info.ingestPort}/v1/users  ` +
    `worker: http://${info.workerHost}:${info.workerPort}/metrics`,
    `console: ${info.consoleUrl}`,
    signatures,
    `rows: psql '${info.warehouseUrl}' -c 'select * from public.users'`,
    `Ctrl-C stops ingest, worker and console; Kafka and PostgreSQL keep running ` +
    `("deno task stack down${stackFlag}" stops them)`,
  ];
}
