/**
 * A bounded scan of some partitions from their newest record backwards, in rounds over the
 * partitions, that stops at a record limit, a time limit, the start of every partition, when the
 * caller has seen enough, or when its signal is aborted.
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
  /**
   * Aborted: the scan makes no further read and rejects with the signal's reason (a closed page,
   * a cancel). The one read in flight, if any, is finished first: a fetch cannot be taken back,
   * and the console's reader runs its reads one at a time.
   */
  signal?: AbortSignal;
  /** Called after each step back, and once before the first read. */
  onProgress?: (progress: ScanProgress) => void;
}

/** Where a scan is. */
export interface ScanProgress {
  topic: string;
  records: number;
  maxRecords: number;
  elapsedMs: number;
  maxMs: number;
  /** Per partition scanned: the lowest offset read so far (`end` before the first read). */
  partitions: { partition: number; start: bigint; reached: bigint; end: bigint }[];
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
 * @throws {unknown} the signal's reason once it is aborted (a `DOMException` "AbortError" when
 * aborted without one).
 */
export async function scanBackwards(
  kafka: KafkaSource,
  opts: ScanOptions,
  visit: (record: ReadRecord) => boolean,
): Promise<ScanSummary> {
  const chunk = BigInt(opts.chunk ?? 1_000);
  const began = opts.now();
  const deadline = began + opts.maxMs;
  opts.signal?.throwIfAborted();
  const { start, end } = await kafka.offsets(opts.topic);
  const position = new Map(opts.partitions.map((p) => [p, end[p] ?? 0n]));
  let records = 0;
  const report = () =>
    opts.onProgress?.({
      topic: opts.topic,
      records,
      maxRecords: opts.maxRecords,
      elapsedMs: opts.now() - began,
      maxMs: opts.maxMs,
      partitions: opts.partitions.map((p) => ({
        partition: p,
        start: start[p] ?? 0n,
        reached: position.get(p)!,
        end: end[p] ?? 0n,
      })),
    });
  report();
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
        opts.signal?.throwIfAborted();
        const read = await kafka.read(opts.topic, p, cursor, { maxRecords: Number(at - cursor) });
        const fresh = read.filter((r) => r.offset >= cursor && r.offset < at);
        if (fresh.length === 0) break;
        inRange.push(...fresh);
        cursor = fresh.at(-1)!.offset + 1n;
      }
      opts.signal?.throwIfAborted();
      position.set(p, from);
      progressed = true;
      for (let i = inRange.length - 1; i >= 0; i--) {
        records++;
        if (visit(inRange[i]!)) {
          report();
          return { records, stoppedBy: "done" };
        }
      }
      report();
    }
    if (!progressed) return { records, stoppedBy: "done" };
  }
}
