/**
 * The ingest's HTTP application: routes, the webhook, the pull endpoints and operations,
 * as a plain `(Request) => Promise<Response>` handler that tests call without sockets.
 *
 * | route | what |
 * | --- | --- |
 * | `POST /v1/users` | one user, a JSON array or NDJSON; 202 once Kafka acknowledged all |
 * | `POST /v1/pull` | runs the pull job now (signed like the webhook); answers its result |
 * | `GET /v1/pull/runs` | the last pull runs |
 * | `GET /openapi.json` | the contract, generated from the zod schema |
 * | `GET /healthz`, `GET /readyz`, `GET /metrics` | operations |
 */
import { type Logger, silentLogger } from "../../shared/logger.ts";
import { noTracing, type Tracing } from "../../shared/tracing.ts";
import { createRegistry, METRICS_CONTENT_TYPE, type Registry } from "../../shared/metrics.ts";
import { type Authenticate, createAuthenticate } from "./authenticate.ts";
import { type Batcher, type BatcherStats, createBatcher } from "../produce/batcher.ts";
import type { LaneRouter, Producer } from "../produce/port.ts";
import type { IngestConfig } from "../config.ts";
import { errorResponse, problem } from "./error_response.ts";
import { fetchRandomUsers } from "../pull/fetch_random_users.ts";
import { HttpError } from "./http_error.ts";
import { createIngestMetrics, type IngestMetrics } from "../ingest_metrics.ts";
import { buildOpenApi } from "./openapi.ts";
import { InvalidItemsError, mediaType, parseUsers } from "./parse_users.ts";
import { ProduceError } from "../produce/produce_error.ts";
import { createPullJob, type PullJob, type PullRun, type PullTrigger } from "../pull/pull_job.ts";
import { type BodyBudget, type BodyLease, createBodyBudget } from "./body_budget.ts";
import { readBody } from "./read_body.ts";
import { createReplayGuard } from "./replay_guard.ts";
import { childTraceparent, requestTraceparent } from "./traceparent.ts";
import { createUserProducer, type UserProducer } from "../produce/user_producer.ts";
import { createWebhookVerifier, SignatureError } from "./webhook_signature.ts";

/** The configuration keys the app uses (a loaded `IngestConfig` fits). */
export type IngestAppConfig = Pick<
  IngestConfig,
  | "WEBHOOK_SECRET"
  | "WEBHOOK_TOLERANCE_SECONDS"
  | "INGEST_ALLOW_UNSIGNED"
  | "INGEST_REPLAY_CACHE_SIZE"
  | "INGEST_MAX_BODY_BYTES"
  | "INGEST_BODY_BYTES_IN_FLIGHT"
  | "INGEST_MAX_ITEMS"
  | "INGEST_LINGER_MS"
  | "INGEST_BATCH_MAX_MESSAGES"
  | "INGEST_BATCH_MAX_BYTES"
  | "INGEST_BUFFER_MAX_BYTES"
  | "INGEST_ACK_TIMEOUT_MS"
  | "RANDOMUSER_URL"
  | "PULL_COUNT"
  | "PULL_TIMEOUT_MS"
  | "PULL_RETRIES"
  | "PULL_BACKOFF_MS"
>;

/** What the app is given. */
export interface IngestAppDeps {
  /** Sends messages to Kafka; resolves when acknowledged. */
  producer: Producer;
  /**
   * Which send lane each message takes: its partition leader's (default: one lane for all). See
   * `produce/leader_lanes.ts`.
   */
  lanes?: LaneRouter;
  /** Kafka reachable and producer connected (default: always true). */
  ready?: () => Promise<boolean>;
  /** Why Kafka is not ready (a setting to fix, an outage), shown by `/readyz`. */
  problem?: () => string | undefined;
  /** Used by the pull job (default: the global `fetch`). */
  fetch?: typeof fetch;
  /** Wall clock in ms: signature tolerance, replay window, `accepted_at`. */
  now?: () => number;
  logger?: Logger;
  /** Where the metrics are registered (default: a new registry). */
  registry?: Registry;
  /** Deadline for a whole request body in ms (default `DEFAULT_BODY_TIMEOUT_MS`, 10 s). */
  bodyTimeoutMs?: number;
  /**
   * Requests come from `Deno.serve`, which enforces `Content-Length`: bodies with one are read
   * in one piece (see `read_body.ts`). Default false, for requests built in code.
   */
  framedBodies?: boolean;
  /**
   * Spans (default: none). With it, records carry the active request span's context and a
   * pull run is a span of its own.
   */
  tracing?: Tracing;
}

/** The assembled application. */
export interface IngestApp {
  /** Answers one HTTP request. */
  handler(request: Request): Promise<Response>;
  /** Runs the pull job (used by `Deno.cron`); never overlaps a running one. */
  pull(trigger: PullTrigger): Promise<PullRun>;
  /** Cancels a running pull (its backoff waits end) and refuses new runs. */
  stopPull(): Promise<void>;
  /** Stops the pull job and flushes the batcher; new produce attempts get 503. */
  close(): Promise<void>;
  /** The batcher's current state. */
  stats(): BatcherStats;
}

/** What the route handlers share: built once by `createIngestApp`. */
interface AppContext {
  config: IngestAppConfig;
  deps: IngestAppDeps;
  metrics: IngestMetrics;
  registry: Registry;
  batcher: Batcher;
  users: UserProducer;
  authenticate: Authenticate;
  pullJob: PullJob;
  bodyOptions: { timeoutMs: number | undefined; framed: boolean };
  /** Body bytes held by all requests at once (`INGEST_BODY_BYTES_IN_FLIGHT`). */
  bodies: BodyBudget;
  tracing: Tracing;
  warnProduceFailed(err: ProduceError): void;
  /** `/openapi.json`'s text, built on first request. */
  openapi?: string;
}

type Route = (ctx: AppContext, request: Request) => Promise<Response> | Response;

const METRIC_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);
const HEALTHY = JSON.stringify({ status: "ok" });
const JSON_HEADERS: HeadersInit = [["content-type", "application/json"]];

/**
 * The 202 answer, `{"accepted":N,"event_ids":[…]}` with the request's `traceparent`: written as
 * text (UUIDs need no escaping) rather than through an object and `Response.json`.
 */
function acceptedResponse(eventIds: readonly string[], traceparent: string): Response {
  const ids = eventIds.length === 0 ? "" : `"${eventIds.join('","')}"`;
  const body = `{"accepted":${eventIds.length},"event_ids":[${ids}]}`;
  return new Response(body, {
    status: 202,
    headers: [["content-type", "application/json"], ["traceparent", traceparent]],
  });
}

/** The path of an absolute URL as the client wrote it, without query or fragment. */
function rawPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  return url.slice(start, end);
}

/** `POST /v1/users`: verify, validate and produce the users; 202 once Kafka acknowledged. */
async function postUsers(ctx: AppContext, request: Request): Promise<Response> {
  const lease = ctx.bodies.lease();
  try {
    return await postUsersHeld(ctx, request, lease);
  } finally {
    lease.release();
  }
}

async function postUsersHeld(
  ctx: AppContext,
  request: Request,
  lease: BodyLease,
): Promise<Response> {
  const { config, metrics, users } = ctx;
  const body = await readBody(request, config.INGEST_MAX_BODY_BYTES, ctx.bodyOptions, lease);
  const contentType = request.headers.get("content-type");
  // Refuse a wrong media type before spending an HMAC on the body.
  mediaType(contentType);
  const auth = await ctx.authenticate(request.headers, body);
  let accepted = false;
  try {
    const list = parseUsers(body, contentType, config.INGEST_MAX_ITEMS);
    const traceparent = requestTraceparent(ctx.tracing, request.headers.get("traceparent"));
    try {
      const eventIds = await users.produce(list, "webhook", traceparent);
      accepted = true;
      metrics.accepted("webhook", eventIds.length);
      return acceptedResponse(eventIds, traceparent);
    } catch (err) {
      metrics.rejected("webhook", "unavailable", list.length);
      if (err instanceof ProduceError) ctx.warnProduceFailed(err);
      throw err;
    }
  } catch (err) {
    if (err instanceof InvalidItemsError) {
      metrics.rejected("webhook", "invalid", err.items.length);
    }
    throw err;
  } finally {
    if (!accepted) auth.release();
  }
}

/** `POST /v1/pull`: one pull run now (signed like the webhook). */
async function postPull(ctx: AppContext, request: Request): Promise<Response> {
  const lease = ctx.bodies.lease();
  let body: Uint8Array;
  try {
    body = await readBody(request, ctx.config.INGEST_MAX_BODY_BYTES, ctx.bodyOptions, lease);
  } finally {
    // The pull's own users are bounded by PULL_COUNT; only the body needs the budget.
    lease.release();
  }
  const auth = await ctx.authenticate(request.headers, body);
  const run = await ctx.pullJob.run("manual");
  // Only a run that produced something uses up its webhook-id; the caller may retry others.
  if (run.outcome === "skipped" || run.outcome === "failed") auth.release();
  if (run.outcome === "skipped") {
    return problem({ status: 409, title: "Pull already running", detail: run.error ?? "", run });
  }
  if (run.outcome === "failed") {
    return problem({ status: 502, title: "Pull failed", detail: run.error ?? "", run });
  }
  return Response.json(run);
}

/** `GET /v1/pull/runs`: the recent pull runs. */
function getPullRuns(ctx: AppContext): Response {
  return Response.json({ runs: ctx.pullJob.runs() });
}

/** `GET /openapi.json`: the published contract, with this configuration's limits. */
function getOpenApi(ctx: AppContext): Response {
  ctx.openapi ??= JSON.stringify(buildOpenApi({
    maxItems: ctx.config.INGEST_MAX_ITEMS,
    maxBodyBytes: ctx.config.INGEST_MAX_BODY_BYTES,
    allowUnsigned: ctx.config.INGEST_ALLOW_UNSIGNED,
  }));
  return new Response(ctx.openapi, { headers: { "content-type": "application/json" } });
}

/** `GET /healthz`: the process answers. */
function getHealth(): Response {
  return new Response(HEALTHY, { headers: JSON_HEADERS });
}

/**
 * `GET /readyz`: Kafka reachable and the send buffer neither full nor stalled. Stalled means
 * every lane is: one broker that hangs stalls only its own lane, and the ingest stays ready
 * for the partitions other brokers lead (`stalledLanes` names the stuck ones).
 */
async function getReady(ctx: AppContext): Promise<Response> {
  const s = ctx.batcher.stats();
  const kafka = await (ctx.deps.ready ?? (() => Promise.resolve(true)))().catch(() => false);
  const ok = kafka && !s.stalled && s.bufferedBytes < s.maxBufferBytes;
  const problem = kafka ? undefined : ctx.deps.problem?.();
  return Response.json(
    {
      status: ok ? "ready" : "not ready",
      kafka,
      ...(problem ? { problem } : {}),
      stalled: s.stalled,
      stalledLanes: s.stalledLanes,
      buffer: s,
    },
    { status: ok ? 200 : 503 },
  );
}

/** `GET /metrics`: Prometheus text. */
function getMetrics(ctx: AppContext): Response {
  return new Response(ctx.registry.render(), {
    headers: { "content-type": METRICS_CONTENT_TYPE },
  });
}

/** Every route, by path and method. */
const ROUTES: Record<string, Record<string, Route>> = {
  "/v1/users": { POST: postUsers },
  "/v1/pull": { POST: postPull },
  "/v1/pull/runs": { GET: getPullRuns },
  "/openapi.json": { GET: getOpenApi },
  "/healthz": { GET: getHealth },
  "/readyz": { GET: getReady },
  "/metrics": { GET: getMetrics },
};

/** Builds the application from its configuration and dependencies. */
export function createIngestApp(config: IngestAppConfig, deps: IngestAppDeps): IngestApp {
  const now = deps.now ?? Date.now;
  const tracing = deps.tracing ?? noTracing;
  const log = (deps.logger ?? silentLogger).child({ component: "ingest" });
  const registry = deps.registry ?? createRegistry();
  // The batcher reports to the metrics and the metrics read the batcher: bind late.
  const metrics = createIngestMetrics(registry, () => batcher.stats());
  const batcher: Batcher = createBatcher(deps.producer, {
    lingerMs: config.INGEST_LINGER_MS,
    maxBatchMessages: config.INGEST_BATCH_MAX_MESSAGES,
    maxBatchBytes: config.INGEST_BATCH_MAX_BYTES,
    maxBufferBytes: config.INGEST_BUFFER_MAX_BYTES,
    ackTimeoutMs: config.INGEST_ACK_TIMEOUT_MS,
  }, { observer: metrics.batcher, lanes: deps.lanes });
  const users = createUserProducer(batcher, now);
  const authenticate = createAuthenticate({
    verifier: config.WEBHOOK_SECRET.length > 0
      ? createWebhookVerifier({
        secrets: config.WEBHOOK_SECRET,
        toleranceSeconds: config.WEBHOOK_TOLERANCE_SECONDS,
        now,
      })
      : null,
    allowUnsigned: config.INGEST_ALLOW_UNSIGNED,
    replayGuard: createReplayGuard({
      windowMs: config.WEBHOOK_TOLERANCE_SECONDS * 1000,
      maxEntries: config.INGEST_REPLAY_CACHE_SIZE,
      now,
    }),
  });
  const pullJob = createPullJob({
    fetchUsers: (signal) =>
      fetchRandomUsers({
        url: config.RANDOMUSER_URL,
        count: config.PULL_COUNT,
        timeoutMs: config.PULL_TIMEOUT_MS,
        retries: config.PULL_RETRIES,
        backoffMs: config.PULL_BACKOFF_MS,
        signal,
      }, { fetch: deps.fetch, logger: log.child({ component: "pull" }) }),
    produce: (list, source, traceparent) => users.produce(list, source, traceparent),
    traceparent: () => childTraceparent(null),
    tracing,
    now,
    logger: log.child({ component: "pull" }),
    onRun: (run) => metrics.pullRun(run.outcome, run.produced),
  });
  const bodyOptions = { timeoutMs: deps.bodyTimeoutMs, framed: deps.framedBodies ?? false };
  // During an outage every request fails the same way: log once per reason and 10 s.
  const lastWarned = new Map<string, { at: number; suppressed: number }>();
  const warnProduceFailed = (err: ProduceError) => {
    const t = now();
    const last = lastWarned.get(err.reason);
    if (last && t - last.at < 10_000) {
      last.suppressed++;
      return;
    }
    log.warn("produce failed, answering 503", {
      reason: err.reason,
      error: err.message,
      similarSinceLastLog: last?.suppressed ?? 0,
    });
    lastWarned.set(err.reason, { at: t, suppressed: 0 });
  };
  const ctx: AppContext = {
    config,
    deps,
    metrics,
    registry,
    batcher,
    users,
    authenticate,
    pullJob,
    bodyOptions,
    bodies: createBodyBudget(config.INGEST_BODY_BYTES_IN_FLIGHT),
    tracing,
    warnProduceFailed,
  };

  return {
    async handler(request) {
      const started = performance.now();
      const raw = rawPath(request.url);
      // The raw path is the pathname whenever it names a route (no dot segments, no escapes
      // to normalise); anything else takes the URL parser, as every path did before.
      let path = raw;
      let methods = Object.hasOwn(ROUTES, raw) ? ROUTES[raw] : undefined;
      if (!methods) {
        path = new URL(request.url).pathname;
        methods = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
      }
      let response: Response;
      try {
        if (!methods) throw new HttpError(404, "Not found", `No route ${path}`);
        // Own keys only: a method named `constructor` or `toString` is a 405 like any other.
        const route = Object.hasOwn(methods, request.method)
          ? methods[request.method]
          : request.method === "HEAD"
          ? methods.GET
          : undefined;
        if (!route) {
          const allow = Object.keys(methods).join(", ");
          throw new HttpError(405, "Method not allowed", `${path} allows ${allow}`, {
            headers: { allow },
          });
        }
        response = await route(ctx, request);
      } catch (err) {
        if (err instanceof SignatureError) {
          log.info("unauthorized request", { path, reason: err.message });
        }
        response = errorResponse(err, path, log);
      }
      // Paths and methods are the client's choice: only known ones become label values, so a
      // stream of invented methods cannot grow the metrics without bound.
      metrics.request(
        methods ? path : "other",
        METRIC_METHODS.has(request.method) ? request.method : "other",
        response.status,
        (performance.now() - started) / 1000,
      );
      return response;
    },
    pull: (trigger) => pullJob.run(trigger),
    stopPull: () => pullJob.stop(),
    async close() {
      await pullJob.stop();
      await batcher.close();
    },
    stats: () => batcher.stats(),
  };
}
