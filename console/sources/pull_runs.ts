/**
 * The ingests' recent pull runs (`GET /v1/pull/runs` of each configured ingest), merged newest
 * first. Each answer is read with a deadline and a size bound, and only the known fields are
 * kept, as bounded text: an error message can carry whatever randomuser.me answered.
 */
import { displayUrl } from "./instance_probe.ts";

/** One pull run, as the page shows it. */
export interface PullRunView {
  /** The ingest that ran it. */
  instance: string;
  trigger: string;
  started_at: string;
  finished_at: string;
  outcome: string;
  fetched: number;
  produced: number;
  rejected: number;
  error?: string;
}

/** The merged runs and each ingest's answer. */
export interface PullRuns {
  runs: PullRunView[];
  instances: { url: string; ok: boolean; problem?: string }[];
}

/** Most runs returned. */
const MAX_RUNS = 200;
const MAX_BODY = 1024 * 1024;

/** Reads the runs of `urls` through `fetch` (injected for tests). */
export async function readPullRuns(
  urls: readonly string[],
  opts: { timeoutMs: number; fetch?: typeof fetch },
): Promise<PullRuns> {
  const fetchFn = opts.fetch ?? fetch;
  const answers = await Promise.all(urls.map(async (url) => {
    const instance = displayUrl(url);
    try {
      const res = await fetchFn(`${url}/v1/pull/runs`, {
        signal: AbortSignal.timeout(opts.timeoutMs),
        redirect: "manual",
      });
      const text = await res.text();
      if (res.status !== 200) {
        return { url: instance, ok: false, problem: `HTTP ${res.status}`, runs: [] };
      }
      if (text.length > MAX_BODY) {
        return { url: instance, ok: false, problem: "answer too large", runs: [] };
      }
      const body = JSON.parse(text) as { runs?: unknown };
      const runs = Array.isArray(body.runs)
        ? body.runs.slice(0, MAX_RUNS).map((r) => runView(instance, r))
        : [];
      return { url: instance, ok: true, runs };
    } catch (err) {
      return {
        url: instance,
        ok: false,
        problem: cut(`no answer: ${(err as Error).message}`, 300),
        runs: [],
      };
    }
  }));
  const runs = answers.flatMap((a) => a.runs).sort((a, b) =>
    b.started_at.localeCompare(a.started_at)
  )
    .slice(0, MAX_RUNS);
  return {
    runs,
    instances: answers.map(({ url, ok, problem }) => ({
      url,
      ok,
      ...(problem ? { problem } : {}),
    })),
  };
}

function runView(instance: string, raw: unknown): PullRunView {
  const r = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const str = (v: unknown, max = 64) => (typeof v === "string" ? cut(v, max) : "");
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return {
    instance,
    trigger: str(r.trigger),
    started_at: str(r.started_at),
    finished_at: str(r.finished_at),
    outcome: str(r.outcome),
    fetched: num(r.fetched),
    produced: num(r.produced),
    rejected: num(r.rejected),
    ...(typeof r.error === "string" ? { error: cut(r.error, 1_000) } : {}),
  };
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
