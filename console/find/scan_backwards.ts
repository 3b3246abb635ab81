/**
 * A bounded scan of some partitions from their newest record backwards, in rounds over the
 * partitions, that stops at a record limit, a time limit, the start of every partition, or
 * when the caller has seen enough.
 */
import type { KafkaSource, ReadRecord } from "../sources/kafka_source.ts";

/** Limits and where to scan. */
export interface ScanOptions {
  topic: string;
  partitions: readonly number[];
  maxRecords: number;
  /** Stop after this many ms of `now()`. */
  maxMs: number;
  now: () => number;
  /** Records asked for per step back (default 1,000: one fetch of about 1 MiB of events). */
  chunk?: number;
}

/** How a scan ended. */
export interface ScanSummary {
  records: number;
  /** `records`, `time`, or `done` (every partition read to its start, or the caller stopped). */
  stoppedBy: "records" | "time" | "done";
}

/**
 * Calls `visit` with every record, newest first within each chunk of each partition; `visit`
 * returns true to stop.
 */
export async function scanBackwards(
  kafka: KafkaSource,
  opts: ScanOptions,
  visit: (record: ReadRecord) => boolean,
): Promise<ScanSummary> {
  const chunk = BigInt(opts.chunk ?? 1_000);
  const deadline = opts.now() + opts.maxMs;
  const { start, end } = await kafka.offsets(opts.topic);
  const position = new Map(opts.partitions.map((p) => [p, end[p] ?? 0n]));
  let records = 0;
  while (true) {
    let progressed = false;
    for (const p of opts.partitions) {
      const first = start[p] ?? 0n;
      const at = position.get(p)!;
      if (at <= first) continue;
      if (records >= opts.maxRecords) return { records, stoppedBy: "records" };
      if (opts.now() > deadline) return { records, stoppedBy: "time" };
      const wanted = BigInt(Math.min(Number(chunk), opts.maxRecords - records));
      const from = at - wanted > first ? at - wanted : first;
      // One answer may stop short of `at` (its byte limit): read on until `at`, so that no
      // record between two steps back is skipped.
      const inRange: ReadRecord[] = [];
      for (let cursor = from; cursor < at;) {
        const read = await kafka.read(opts.topic, p, cursor, { maxRecords: Number(at - cursor) });
        const fresh = read.filter((r) => r.offset >= cursor && r.offset < at);
        if (fresh.length === 0) break;
        inRange.push(...fresh);
        cursor = fresh.at(-1)!.offset + 1n;
      }
      position.set(p, from);
      progressed = true;
      for (let i = inRange.length - 1; i >= 0; i--) {
        records++;
        if (visit(inRange[i]!)) return { records, stoppedBy: "done" };
      }
    }
    if (!progressed) return { records, stoppedBy: "done" };
  }
}
