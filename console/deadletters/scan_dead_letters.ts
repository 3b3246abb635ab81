/**
 * Reads the newest dead letters: the last `limit` records of the dead-letter topic, shared
 * among its partitions, bounded in time as well as in count.
 */
import type { KafkaSource } from "../sources/kafka_source.ts";
import { type DeadLetterInfo, deadLetterOf } from "./dead_letter.ts";

/** What a scan read. */
export interface DeadLetterScan {
  letters: DeadLetterInfo[];
  /** Records on the topic now (end minus start, all partitions). */
  total: number;
  /** The scan stopped at its time limit before reading everything it meant to. */
  partial: boolean;
}

/**
 * Reads up to `limit` of the newest records of `dlqTopic` (each partition its share), within
 * `maxMs` of `now()`.
 */
export async function scanDeadLetters(
  kafka: KafkaSource,
  dlqTopic: string,
  opts: { limit: number; maxMs: number; now?: () => number },
): Promise<DeadLetterScan> {
  const now = opts.now ?? Date.now;
  const deadline = now() + opts.maxMs;
  const { start, end } = await kafka.offsets(dlqTopic);
  const share = BigInt(Math.max(1, Math.ceil(opts.limit / Math.max(1, end.length))));
  const letters: DeadLetterInfo[] = [];
  let total = 0;
  let partial = false;
  for (let p = 0; p < end.length; p++) {
    const first = start[p] ?? 0n;
    const last = end[p]!;
    total += Number(last - first);
    let at = last - share > first ? last - share : first;
    while (at < last) {
      if (now() > deadline) {
        partial = true;
        break;
      }
      const records = await kafka.read(dlqTopic, p, at, { maxRecords: 500 });
      if (records.length === 0) break;
      for (const r of records) if (r.offset < last) letters.push(deadLetterOf(r));
      at = records.at(-1)!.offset + 1n;
    }
  }
  return { letters, total, partial };
}
