/**
 * `GET /api/find?user_id=…` (or `event_id=…`, `trace_id=…`): the events found and their paths
 * (see `find/find_event.ts`). Two searches at a time at most (429 beyond), each bounded by
 * `CONSOLE_FIND_MAX_RECORDS` and `CONSOLE_FIND_MAX_MS`.
 *
 * With `Accept: application/x-ndjson` the answer is a stream of JSON lines while the search runs:
 * `{"progress": …}` lines (which scan, records read of the limit, the offset reached per
 * partition, the time taken of the limit), then one `{"result": …}` (the same object as the plain
 * answer) or `{"error": …, "status": …}`. A search stops, and its reads with it, when the client
 * goes away (the page's Cancel aborts its fetch; a closed page does the same) or the console stops.
 */
import type { FindOptions, FindProgress, FindQuery, FindResult } from "../find/find_event.ts";
import { headerText, recordView } from "../records/record_view.ts";
import { safeText } from "../records/safe_text.ts";
import { ApiError, type ApiRoute } from "./app.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACE = /^[0-9a-f]{32}$/;

/** The query of a request. @throws {ApiError} 400 naming what is expected. */
export function findQuery(url: URL): FindQuery {
  const user = url.searchParams.get("user_id");
  const event = url.searchParams.get("event_id");
  const trace = url.searchParams.get("trace_id");
  if ([user, event, trace].filter((v) => v !== null).length !== 1) {
    throw new ApiError(400, "Expected one of user_id, event_id or trace_id");
  }
  if (user !== null) {
    const id = user.trim().toLowerCase();
    if (!UUID.test(id)) throw new ApiError(400, "Expected user_id: a UUID");
    return { by: "user", id };
  }
  if (event !== null) {
    const id = event.trim().toLowerCase();
    if (!UUID.test(id)) throw new ApiError(400, "Expected event_id: a UUID");
    return { by: "event", id };
  }
  const id = trace!.trim().toLowerCase();
  if (!TRACE.test(id)) throw new ApiError(400, "Expected trace_id: 32 hexadecimal digits");
  return { by: "trace", id };
}

/**
 * An event's trace: the trace id of its `traceparent` (version 00, not all zero) and, with a
 * `CONSOLE_TRACE_URL` template, the link to it; undefined without a valid header.
 */
export function traceOf(
  traceparent: string | undefined,
  template: string | undefined,
): { id: string; url?: string } | undefined {
  const id = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent?.trim() ?? "")?.[1];
  if (!id || /^0+$/.test(id)) return undefined;
  return template ? { id, url: template.replaceAll("{trace_id}", id) } : { id };
}

/** A progress report as the page gets it (offsets as strings). */
function progressView(p: FindProgress) {
  return {
    phase: p.phase,
    topic: p.topic,
    records: p.records,
    maxRecords: p.maxRecords,
    elapsedMs: Math.round(p.elapsedMs),
    maxMs: p.maxMs,
    partitions: p.partitions.map((q) => ({
      partition: q.partition,
      start: String(q.start),
      reached: String(q.reached),
      end: String(q.end),
    })),
  };
}

/** A search's answer as the page gets it: every record field cut to size, as safe text. */
function answerView(query: FindQuery, result: FindResult, topic: string, traceUrl?: string) {
  return {
    query,
    topicScan: result.topicScan,
    deadLetterScan: result.deadLetterScan,
    found: result.found.map((f) => ({
      accepted: {
        topic,
        partition: f.record.partition,
        offset: String(f.record.offset),
        timestamp: new Date(f.record.timestamp).toISOString(),
        accepted_at: safeText(f.acceptedAt ?? null, 64),
        source: safeText(f.source ?? null, 32),
        event_id: safeText(f.eventId ?? null, 64),
        user_id: safeText(f.userId ?? null, 64),
        // A re-driven record: the dead letter it came from (the re-drive's header).
        redriven_from: safeText(f.redrivenFrom ?? null, 300),
      },
      path: f.path.kind === "dead-lettered"
        ? {
          ...f.path,
          stage: safeText(f.path.stage, 64),
          reason: safeText(f.path.reason, 4_000),
        }
        : f.path,
      trace: traceOf(headerText(f.record, "traceparent"), traceUrl),
      record: recordView(f.record),
    })),
  };
}

/** Lines queued for a client that reads slowly; progress beyond them is skipped, not queued. */
const QUEUED_LINES = 4;

const encoder = new TextEncoder();
const line = (data: unknown) => encoder.encode(JSON.stringify(data) + "\n");

/** The route, over a search function; `traceUrl` is the `CONSOLE_TRACE_URL` template. */
export function findRoutes(
  find: (query: FindQuery, opts: FindOptions) => Promise<FindResult>,
  topic: string,
  traceUrl?: string,
): Record<string, Record<string, ApiRoute>> {
  let running = 0;
  const route: ApiRoute = async ({ request, url, deps }) => {
    const query = findQuery(url);
    if (running >= 2) throw new ApiError(429, "Two searches are running; try again shortly");
    running++;
    // Ends the search when the client goes away (the request's signal, or the stream cancelled
    // by the server when it cannot write) or the console stops.
    const stop = new AbortController();
    const signal = AbortSignal.any(
      [request.signal, stop.signal, ...(deps.shutdown ? [deps.shutdown] : [])],
    );
    const streamed = /\bapplication\/x-ndjson\b/i.test(request.headers.get("accept") ?? "");
    if (!streamed) {
      try {
        return Response.json(answerView(query, await find(query, { signal }), topic, traceUrl));
      } catch (err) {
        if (signal.aborted) throw new ApiError(499, "Search cancelled");
        throw err;
      } finally {
        running--;
      }
    }
    const log = deps.logger.child({ component: "console-find" });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const search = find(query, {
          signal,
          onProgress: (p) => {
            if ((controller.desiredSize ?? 0) > 0) {
              controller.enqueue(line({ progress: progressView(p) }));
            }
          },
        });
        search.then(
          (result) =>
            controller.enqueue(line({ result: answerView(query, result, topic, traceUrl) })),
          (err) => {
            if (signal.aborted) return;
            if (err instanceof ApiError) {
              controller.enqueue(line({ error: err.message, status: err.status }));
              return;
            }
            log.error("search failed", { by: query.by, error: String(err) });
            controller.enqueue(line({ error: "Internal error", status: 500 }));
          },
        ).finally(() => {
          running--;
          try {
            controller.close();
          } catch { /* cancelled */ }
        });
      },
      cancel() {
        stop.abort(new DOMException("The client went away", "AbortError"));
      },
    }, { highWaterMark: QUEUED_LINES });
    return new Response(body, {
      headers: {
        "content-type": "application/x-ndjson; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  };
  return { "/api/find": { GET: route } };
}
