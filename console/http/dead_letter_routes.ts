/**
 * The dead-letter routes:
 *
 * | route | what |
 * | --- | --- |
 * | `GET /api/dead-letters` | groups by stage and reason, with counts, from the newest dead letters |
 * | `GET /api/dead-letters/records?group=ID&page=N` | one group's records, newest first, 20 a page |
 * | `POST /api/redrive` | `{scope, group?, partition?, offset?, dryRun, confirm?}` (a write) |
 *
 * The dead letters are read at most once every 2 s whatever the number of pages asking, and
 * only their headers are kept; a page's 20 records are read again when shown.
 */
import type { DeadLetterInfo } from "../deadletters/dead_letter.ts";
import { groupDeadLetters, pageOfGroup } from "../deadletters/group_dead_letters.ts";
import {
  type RedriveDesk,
  RedriveRefusal,
  type RedriveScope,
} from "../deadletters/redrive_desk.ts";
import type { DeadLetterScan } from "../deadletters/scan_dead_letters.ts";
import { recordView } from "../records/record_view.ts";
import type { ReadRecord } from "../sources/kafka_source.ts";
import { safeText } from "../records/safe_text.ts";
import { ApiError, type ApiRoute, jsonBody, writeRoute } from "./app.ts";

/** Records per page of a group. */
export const PAGE_SIZE = 20;

/** A scan that is reused for `ttlMs`; `invalidate` forgets it (after a re-drive). */
export function cachedScan(
  scan: () => Promise<DeadLetterScan>,
  ttlMs = 2_000,
  now: () => number = Date.now,
): { get(): Promise<DeadLetterScan>; invalidate(): void } {
  let cached: { at: number; scan: Promise<DeadLetterScan> } | undefined;
  return {
    get() {
      if (!cached || now() - cached.at > ttlMs) {
        const fresh = { at: now(), scan: scan() };
        fresh.scan.catch(() => {
          if (cached === fresh) cached = undefined;
        });
        cached = fresh;
      }
      return cached.scan;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

function letterView(l: DeadLetterInfo, record: ReadRecord | undefined) {
  return {
    partition: l.partition,
    offset: String(l.offset),
    time: new Date(l.time).toISOString(),
    stage: safeText(l.stage, 64),
    reason: safeText(l.reason, 4_000),
    origin: {
      ...l.origin,
      topic: safeText(l.origin.topic, 256).text,
      offset: safeText(l.origin.offset, 32).text,
    },
    // Gone when retention removed it since the scan.
    record: record && record.offset === l.offset ? recordView(record) : null,
  };
}

/** The routes, over a cached scan, a reader of one dead letter, and the re-drive desk. */
export function deadLetterRoutes(deps: {
  scan: { get(): Promise<DeadLetterScan>; invalidate(): void };
  /** The record at `partition`/`offset` of the dead-letter topic (the first from there). */
  read: (partition: number, offset: bigint) => Promise<ReadRecord | undefined>;
  desk: RedriveDesk;
}): Record<string, Record<string, ApiRoute>> {
  const groups: ApiRoute = async () => {
    const scan = await deps.scan.get();
    return Response.json({
      groups: groupDeadLetters(scan.letters).map((g) => ({
        ...g,
        stage: safeText(g.stage, 64),
        reason: safeText(g.reason, 4_000),
        newest: new Date(g.newest).toISOString(),
        oldest: new Date(g.oldest).toISOString(),
      })),
      read: scan.letters.length,
      total: scan.total,
      partial: scan.partial,
    });
  };
  const records: ApiRoute = async ({ url }) => {
    const id = url.searchParams.get("group") ?? "";
    if (!/^[0-9a-f]{16}$/.test(id)) throw new ApiError(400, "Expected group=<16 hex digits>");
    const page = Number(url.searchParams.get("page") ?? "0");
    if (!Number.isInteger(page) || page < 0 || page > 1_000_000) {
      throw new ApiError(400, "Expected page=<n>");
    }
    const scan = await deps.scan.get();
    const p = pageOfGroup(scan.letters, id, page, PAGE_SIZE);
    // One page's records are read again (a scan keeps no values): at most 20 small reads.
    const items = [];
    for (const l of p.items) items.push(letterView(l, await deps.read(l.partition, l.offset)));
    return Response.json({ ...p, items });
  };
  const redrive: ApiRoute = writeRoute(async ({ request }) => {
    const body = await jsonBody(request) as Record<string, unknown>;
    const scope = parseScope(body);
    if (typeof body.dryRun !== "boolean") throw new ApiError(400, "Expected dryRun: true or false");
    if (body.confirm !== undefined && typeof body.confirm !== "string") {
      throw new ApiError(400, "Expected confirm: the id of a dry run");
    }
    try {
      const answer = await deps.desk.request(scope, {
        dryRun: body.dryRun,
        ...(typeof body.confirm === "string" ? { confirm: body.confirm } : {}),
      });
      if (!answer.dryRun) deps.scan.invalidate();
      return Response.json(answer);
    } catch (err) {
      if (err instanceof RedriveRefusal) throw new ApiError(err.status, err.message);
      throw new ApiError(502, `Re-drive failed: ${cut((err as Error).message ?? String(err))}`);
    }
  });
  return {
    "/api/dead-letters": { GET: groups },
    "/api/dead-letters/records": { GET: records },
    "/api/redrive": { POST: redrive },
  };
}

function parseScope(body: Record<string, unknown>): RedriveScope {
  switch (body.scope) {
    case "all":
      return { scope: "all" };
    case "group":
      if (typeof body.group === "string" && /^[0-9a-f]{16}$/.test(body.group)) {
        return { scope: "group", group: body.group };
      }
      throw new ApiError(400, "Expected group: <16 hex digits>");
    case "record":
      if (
        Number.isInteger(body.partition) && (body.partition as number) >= 0 &&
        typeof body.offset === "string" && /^\d{1,19}$/.test(body.offset)
      ) {
        return { scope: "record", partition: body.partition as number, offset: body.offset };
      }
      throw new ApiError(400, 'Expected partition: <n> and offset: "<n>"');
    default:
      throw new ApiError(400, "Expected scope: all, group or record");
  }
}

function cut(s: string): string {
  return s.length <= 300 ? s : `${s.slice(0, 299)}…`;
}
