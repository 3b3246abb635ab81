/**
 * The pull job: fetch users from randomuser.me and produce them, keyed by `login.uuid`.
 *
 * Runs never overlap: a run that starts while another is going is recorded as `skipped`
 * (cron) or refused (`POST /v1/pull` answers 409). The last runs are kept for
 * `GET /v1/pull/runs`.
 *
 * With tracing on, a run is a span (`randomuser pull`, a child of the request span for
 * `POST /v1/pull`) whose context the produced records carry; its fetch is a child of it.
 */
import type { Source, User } from "../../shared/event.ts";
import { errorFields, type Logger, silentLogger } from "../../shared/logger.ts";
import { formatTraceparent, noTracing, type Tracing } from "../../shared/tracing.ts";
import { usersFromResponse } from "./random_user.ts";

/** What started a run. */
export type PullTrigger = "schedule" | "manual";

/** How a run ended. `partial`: some results were invalid and not produced. */
export type PullOutcome = "ok" | "partial" | "failed" | "skipped";

/** One run of the pull job. */
export interface PullRun {
  trigger: PullTrigger;
  started_at: string;
  finished_at: string;
  outcome: PullOutcome;
  /** Results in the answer. */
  fetched: number;
  /** Users acknowledged by Kafka. */
  produced: number;
  /** Results that did not map to a valid user. */
  rejected: number;
  /** Why the run failed (or what was rejected). */
  error?: string;
}

/** What the pull job needs. */
export interface PullJobDeps {
  /** Fetches one randomuser.me answer body (with its own timeout and retries). */
  fetchUsers(signal: AbortSignal): Promise<unknown>;
  /** Produces users; resolves once Kafka acknowledged them. */
  produce(users: readonly User[], source: Source, traceparent: string): Promise<string[]>;
  /** A new `traceparent` for a run (when tracing is off). */
  traceparent(): string;
  /** Spans (default: none): a run is one, and its records carry its context. */
  tracing?: Tracing;
  now?: () => number;
  logger?: Logger;
  /** Called once per run with its outcome (metrics). */
  onRun?(run: PullRun): void;
}

/** The pull job. */
export interface PullJob {
  /** Runs once unless a run is going on (then returns a `skipped` run at once). */
  run(trigger: PullTrigger): Promise<PullRun>;
  /** The last runs, newest first. */
  runs(): PullRun[];
  /** Cancels a run in progress (its backoff waits end at once) and waits for it to end. */
  stop(): Promise<void>;
}

/** Creates the pull job; `history` is how many runs `runs()` keeps (default 20). */
export function createPullJob(deps: PullJobDeps, opts: { history?: number } = {}): PullJob {
  const now = deps.now ?? Date.now;
  const log = deps.logger ?? silentLogger;
  const history = opts.history ?? 20;
  const runs: PullRun[] = [];
  let current: Promise<PullRun> | null = null;
  let abort = new AbortController();
  let stopped = false;

  const record = (run: PullRun) => {
    runs.unshift(run);
    runs.length = Math.min(runs.length, history);
    deps.onRun?.(run);
    const fields = { ...run, error: undefined };
    if (run.outcome === "failed") log.error("pull run failed", { ...fields, error: run.error });
    else if (run.outcome === "skipped") log.warn("pull run skipped", fields);
    else log.info("pull run finished", fields);
    return run;
  };

  const tracing = deps.tracing ?? noTracing;

  /** A run, in a span of its own when tracing is on. */
  const traced = async (trigger: PullTrigger): Promise<PullRun> => {
    if (!tracing.enabled) return await execute(trigger, deps.traceparent());
    const span = tracing.startSpan("randomuser pull", {
      attributes: { "user_pipeline.pull.trigger": trigger },
    });
    try {
      const run = await tracing.withSpan(
        span,
        () => execute(trigger, formatTraceparent(span.context())),
      );
      span.setAttributes({
        "user_pipeline.pull.outcome": run.outcome,
        "user_pipeline.pull.fetched": run.fetched,
        "user_pipeline.pull.produced": run.produced,
        "user_pipeline.pull.rejected": run.rejected,
      });
      if (run.outcome === "failed") span.recordError(run.error ?? "failed", true);
      return run;
    } finally {
      span.end();
    }
  };

  const execute = async (trigger: PullTrigger, traceparent: string): Promise<PullRun> => {
    const started = new Date(now()).toISOString();
    const base = { trigger, started_at: started, fetched: 0, produced: 0, rejected: 0 };
    try {
      const body = await deps.fetchUsers(abort.signal);
      const { users, rejected } = usersFromResponse(body);
      base.fetched = users.length + rejected.length;
      base.rejected = rejected.length;
      if (users.length > 0) await deps.produce(users, "randomuser", traceparent);
      base.produced = users.length;
      const error = rejected.length > 0
        ? `${rejected.length} results rejected, e.g. result ${rejected[0]!.index}: ${
          rejected[0]!.issues.map((i) => `${i.path}: ${i.message}`).join("; ")
        }`
        : undefined;
      return record({
        ...base,
        finished_at: new Date(now()).toISOString(),
        outcome: rejected.length > 0 ? "partial" : "ok",
        ...(error ? { error } : {}),
      });
    } catch (err) {
      log.debug("pull run error", errorFields(err));
      return record({
        ...base,
        finished_at: new Date(now()).toISOString(),
        outcome: "failed",
        error: (err as Error)?.message ?? String(err),
      });
    }
  };

  return {
    run(trigger) {
      if (current || stopped) {
        const at = new Date(now()).toISOString();
        return Promise.resolve(record({
          trigger,
          started_at: at,
          finished_at: at,
          outcome: "skipped",
          fetched: 0,
          produced: 0,
          rejected: 0,
          error: stopped ? "The ingest is shutting down" : "Another run is still going on",
        }));
      }
      current = traced(trigger).finally(() => current = null);
      return current;
    },
    runs: () => runs.map((r) => ({ ...r })),
    async stop() {
      stopped = true;
      abort.abort();
      await current;
      abort = new AbortController();
    },
  };
}
