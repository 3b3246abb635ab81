/**
 * Finds an event and tells its path.
 *
 * - By user id: the key's partition (the producer's partitioner), read from the newest record
 *   backwards; the user's newest events (up to 10).
 * - By event id or trace id: every partition, read backwards; the events with that id, or whose
 *   `traceparent` carries that trace (up to 10).
 *
 * Each scan stops at `maxRecords` records or `maxMs`. For the events found, the dead-letter
 * topic is searched backwards (the key's partition for a user) until every event that the
 * workers committed past has its dead letter or the dead letters are older than the events;
 * then the path is decided (`eventPath`) from the committed offsets and the user's row.
 *
 * A dead-lettered event is re-driven when one of the records found names its dead letter in
 * `user_pipeline.redriven_from`: the re-drive (`shared/redrive/`) produces the record again with
 * its key, value and headers (so in the same partition, later, and matched by the same query)
 * and that header. Scanning backwards, the copy is read before the original; a search by event
 * id reads on past copies to the original. The header is record text like any other: a record
 * that claims a re-drive is believed, as the re-drive's own checks would be.
 *
 * Both scans report their progress and stop once the search's signal is aborted.
 */
import { DLQ_HEADERS } from "../../shared/dead_letter_headers.ts";
import { REDRIVEN_FROM_HEADER } from "../../shared/redrive/redrive_filter.ts";
import { headerText } from "../records/record_view.ts";
import type { KafkaSource, ReadRecord } from "../sources/kafka_source.ts";
import type { WarehouseRow, WarehouseSource } from "../sources/warehouse_source.ts";
import { type EventPath, eventPath } from "./event_path.ts";
import { scanBackwards, type ScanProgress, type ScanSummary } from "./scan_backwards.ts";

/** What to look for. */
export type FindQuery =
  | { by: "user"; id: string }
  | { by: "event"; id: string }
  | { by: "trace"; id: string };

/** One event found, and its path. */
export interface FoundEvent {
  record: ReadRecord;
  /** From the envelope, when the value is a JSON event. */
  eventId?: string;
  userId?: string;
  acceptedAt?: string;
  source?: string;
  /** A re-driven record: the dead letter it came from (`<dlq topic>/<partition>/<offset>`). */
  redrivenFrom?: string;
  path: EventPath;
}

/** The answer. */
export interface FindResult {
  found: FoundEvent[];
  topicScan: ScanSummary & { partitions: number[] };
  deadLetterScan: ScanSummary | null;
}

/** What `findEvent` reads and its bounds. */
export interface FindDeps {
  kafka: KafkaSource;
  warehouse?: WarehouseSource;
  topic: string;
  dlqTopic: string;
  groupId: string;
  maxRecords: number;
  maxMs: number;
  now: () => number;
}

/** Where a search is: which scan (the topic's, then the dead letters'), and how far. */
export type FindProgress = ScanProgress & { phase: "topic" | "dead-letters" };

/** One search's cancel and progress. */
export interface FindOptions {
  /** Aborted: the search stops at its next read and rejects with the signal's reason. */
  signal?: AbortSignal;
  onProgress?: (progress: FindProgress) => void;
}

/** Most events one answer lists. */
export const MAX_FOUND = 10;

const decoder = new TextDecoder();

interface Envelope {
  event_id?: unknown;
  accepted_at?: unknown;
  source?: unknown;
  user?: { id?: unknown };
}

function envelope(record: ReadRecord): Envelope | undefined {
  if (!record.value) return undefined;
  try {
    const data = JSON.parse(decoder.decode(record.value));
    return data && typeof data === "object" ? data as Envelope : undefined;
  } catch {
    return undefined;
  }
}

const text = (v: unknown) => (typeof v === "string" ? v : undefined);

/**
 * Runs one search.
 * @throws {unknown} the signal's reason once `opts.signal` is aborted.
 */
export async function findEvent(
  query: FindQuery,
  deps: FindDeps,
  opts: FindOptions = {},
): Promise<FindResult> {
  const { signal, onProgress } = opts;
  const progress = (phase: FindProgress["phase"]) =>
    onProgress ? { onProgress: (p: ScanProgress) => onProgress({ ...p, phase }) } : {};
  const cancel = signal ? { signal } : {};
  const { end } = await deps.kafka.offsets(deps.topic);
  const partitions = query.by === "user"
    ? [deps.kafka.partitionOf(query.id, end.length)]
    : end.map((_, p) => p);
  const matches: ReadRecord[] = [];
  const isMatch = (r: ReadRecord): boolean => {
    switch (query.by) {
      case "user":
        return r.key !== null && decoder.decode(r.key).toLowerCase() === query.id;
      case "event": {
        if (!r.value || !decoder.decode(r.value).includes(query.id)) return false;
        return text(envelope(r)?.event_id)?.toLowerCase() === query.id;
      }
      case "trace":
        return (headerText(r, "traceparent") ?? "").toLowerCase().split("-")[1] === query.id;
    }
  };
  const topicScan = await scanBackwards(deps.kafka, {
    topic: deps.topic,
    partitions,
    maxRecords: deps.maxRecords,
    maxMs: deps.maxMs,
    now: deps.now,
    ...cancel,
    ...progress("topic"),
  }, (r) => {
    if (!isMatch(r)) return false;
    matches.push(r);
    // An event id names one event: its re-driven copies come first, then the original.
    const original = headerText(r, REDRIVEN_FROM_HEADER) === undefined;
    return matches.length >= MAX_FOUND || (query.by === "event" && original);
  });
  matches.sort((a, b) => b.timestamp - a.timestamp || (b.offset > a.offset ? 1 : -1));

  signal?.throwIfAborted();
  const committed = await deps.kafka.committed(deps.groupId, deps.topic);
  const processed = matches.filter((m) => {
    const c = committed.get(m.partition);
    return c !== undefined && m.offset < c;
  });

  // Dead letters of the processed matches, searched backwards until each has one or the dead
  // letters are older than every match.
  const deadLetters = new Map<string, ReadRecord>();
  let deadLetterScan: ScanSummary | null = null;
  if (processed.length > 0) {
    const wanted = new Set(processed.map((m) => `${m.partition}/${m.offset}`));
    const oldest = Math.min(...processed.map((m) => m.timestamp));
    const dlqEnd = (await deps.kafka.offsets(deps.dlqTopic)).end;
    const dlqPartitions = query.by === "user"
      ? [deps.kafka.partitionOf(query.id, dlqEnd.length)]
      : dlqEnd.map((_, p) => p);
    const olderEverywhere = new Set<number>();
    deadLetterScan = await scanBackwards(deps.kafka, {
      topic: deps.dlqTopic,
      partitions: dlqPartitions,
      maxRecords: deps.maxRecords,
      maxMs: deps.maxMs,
      now: deps.now,
      ...cancel,
      ...progress("dead-letters"),
    }, (r) => {
      if (r.timestamp < oldest) olderEverywhere.add(r.partition);
      if (headerText(r, DLQ_HEADERS.topic) === deps.topic) {
        const at = `${headerText(r, DLQ_HEADERS.partition)}/${headerText(r, DLQ_HEADERS.offset)}`;
        if (wanted.has(at) && !deadLetters.has(at)) deadLetters.set(at, r);
      }
      return deadLetters.size === wanted.size || olderEverywhere.size === dlqPartitions.length;
    });
  }

  // The re-driven copies found, by the dead letter they came from.
  const copies = new Map<string, ReadRecord>();
  for (const m of matches) {
    const from = headerText(m, REDRIVEN_FROM_HEADER);
    if (from !== undefined && !copies.has(from)) copies.set(from, m);
  }

  const rows = new Map<string, WarehouseRow | undefined>();
  const found: FoundEvent[] = [];
  for (const m of matches) {
    const env = envelope(m);
    const eventId = text(env?.event_id);
    const userId = text(env?.user?.id) ?? (m.key ? decoder.decode(m.key) : undefined);
    const acceptedAt = text(env?.accepted_at);
    const source = text(env?.source);
    const c = committed.get(m.partition);
    const dl = deadLetters.get(`${m.partition}/${m.offset}`);
    const copy = dl && copies.get(`${deps.dlqTopic}/${dl.partition}/${dl.offset}`);
    const redrivenFrom = headerText(m, REDRIVEN_FROM_HEADER);
    let row: WarehouseRow | undefined;
    const processedHere = c !== undefined && m.offset < c;
    if (deps.warehouse && processedHere && !dl && userId !== undefined && eventId !== undefined) {
      signal?.throwIfAborted();
      if (!rows.has(userId)) rows.set(userId, await deps.warehouse.row(userId.toLowerCase()));
      row = rows.get(userId);
    }
    found.push({
      record: m,
      ...(eventId === undefined ? {} : { eventId }),
      ...(userId === undefined ? {} : { userId }),
      ...(acceptedAt === undefined ? {} : { acceptedAt }),
      ...(source === undefined ? {} : { source }),
      ...(redrivenFrom === undefined ? {} : { redrivenFrom }),
      path: eventPath({
        offset: m.offset,
        ...(eventId === undefined ? {} : { eventId }),
        ...(acceptedAt === undefined ? {} : { acceptedAt }),
        committed: c,
        ...(dl
          ? {
            deadLetter: {
              stage: headerText(dl, DLQ_HEADERS.stage) ?? "",
              reason: headerText(dl, DLQ_HEADERS.message) ?? "",
              partition: dl.partition,
              offset: dl.offset,
              ...(copy ? { redrivenTo: { partition: copy.partition, offset: copy.offset } } : {}),
            },
          }
          : {}),
        warehouseAsked: deps.warehouse !== undefined,
        ...(row ? { row } : {}),
      }),
    });
  }
  return { found, topicScan: { ...topicScan, partitions }, deadLetterScan };
}
