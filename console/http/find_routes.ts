/**
 * `GET /api/find?user_id=…` (or `event_id=…`, `trace_id=…`): the events found and their paths
 * (see `find/find_event.ts`). Two searches at a time at most (429 beyond), each bounded by
 * `CONSOLE_FIND_MAX_RECORDS` and `CONSOLE_FIND_MAX_MS`.
 */
import type { FindQuery, FindResult } from "../find/find_event.ts";
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

/** The route, over a search function; `traceUrl` is the `CONSOLE_TRACE_URL` template. */
export function findRoutes(
  find: (query: FindQuery) => Promise<FindResult>,
  topic: string,
  traceUrl?: string,
): Record<string, Record<string, ApiRoute>> {
  let running = 0;
  const route: ApiRoute = async ({ url }) => {
    const query = findQuery(url);
    if (running >= 2) throw new ApiError(429, "Two searches are running; try again shortly");
    running++;
    try {
      const result = await find(query);
      return Response.json({
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
      });
    } finally {
      running--;
    }
  };
  return { "/api/find": { GET: route } };
}
