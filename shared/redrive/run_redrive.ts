/**
 * The re-drive: moves dead letters back to the topic after a fix, so operators never edit
 * Kafka by hand.
 *
 * It reads the dead-letter topic up to the end offsets seen at start (records dead-lettered
 * meanwhile wait for the next run), produces the matching records with their original key,
 * value and headers (in order, a repeated name with every value; error headers removed,
 * `user_pipeline.redriven_from` added) with acks=all, and only then commits its own consumer
 * group's offsets: a crash re-sends at most the last batch, which the warehouse merge makes
 * harmless. Each filter has its own group, so a filtered run does not consume what a later run
 * with another filter should move.
 */
import type { Logger } from "../logger.ts";
import { createKafkaAdmin } from "../kafka/admin.ts";
import { type ConsumedRecord, createConsumerGroup } from "../kafka/consumer_group.ts";
import { createKafkaProducer } from "../kafka/producer.ts";
import type { KafkaConnection } from "../kafka/settings.ts";
import { matchesFilter, type RedriveFilter, redrivenHeaders } from "./redrive_filter.ts";

/** What to re-drive, from where, to where. */
export interface RedriveOptions {
  dlqTopic: string;
  topic: string;
  groupId: string;
  filter: RedriveFilter;
  /** Count what would move; produce and commit nothing. */
  dryRun: boolean;
  /** Give up (with an error) after this long. */
  timeoutMs: number;
}

/** What a run did. */
export interface RedriveResult {
  moved: number;
  skipped: number;
}

/** Records handled per produce-and-commit round. */
const ROUND = 500;

/**
 * Runs one re-drive to the end offsets seen at start.
 * @throws {Error} when it cannot finish within `timeoutMs`, or Kafka fails.
 */
export async function runRedrive(
  connection: KafkaConnection,
  opts: RedriveOptions,
  logger: Logger,
): Promise<RedriveResult> {
  const admin = createKafkaAdmin(connection);
  let ends: bigint[];
  let start: Map<number, bigint>;
  try {
    if ((await admin.partitionCount(opts.topic)) === 0) {
      throw new Error(`Topic ${opts.topic} does not exist`);
    }
    ends = await admin.endOffsets(opts.dlqTopic);
    start = await admin.committedOffsets(opts.groupId, opts.dlqTopic);
  } finally {
    await admin.close();
  }
  const position = new Map<number, bigint>();
  ends.forEach((_, partition) => position.set(partition, start.get(partition) ?? 0n));
  const done = () => ends.every((end, p) => (position.get(p) ?? 0n) >= end);
  const result: RedriveResult = { moved: 0, skipped: 0 };
  if (done()) return result;

  const producer = createKafkaProducer(connection, { logger, clientIdSuffix: "-redrive" });
  const group = createConsumerGroup(connection, {
    groupId: opts.groupId,
    topics: [opts.dlqTopic],
    maxBufferedRecords: ROUND,
  });
  const queue: ConsumedRecord[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = Date.now() + opts.timeoutMs;
  try {
    await group.start({
      record(r) {
        queue.push(r);
        if (queue.length >= ROUND) group.pause();
        wake?.();
      },
      error(err) {
        failure = err;
        wake?.();
      },
    });
    while (!done()) {
      if (failure) throw failure;
      if (queue.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`Re-drive did not finish within ${opts.timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
        wake = undefined;
        continue;
      }
      const round = queue.splice(0, queue.length);
      group.resume();
      const inRange = round.filter((r) => r.offset < (ends[r.partition] ?? 0n));
      const moving = inRange.filter((r) =>
        matchesFilter(r.headers, opts.filter, `${r.partition}/${r.offset}`)
      );
      if (!opts.dryRun && moving.length > 0) {
        // Acknowledged before the dead-letter offsets move past these records.
        await producer.send(
          opts.topic,
          moving.map((r) => ({
            key: r.key,
            value: r.value,
            headers: redrivenHeaders(r.headers, `${opts.dlqTopic}/${r.partition}/${r.offset}`),
          })),
        );
      }
      result.moved += moving.length;
      result.skipped += inRange.length - moving.length;
      const next = new Map<number, bigint>();
      for (const r of inRange) {
        if (r.offset + 1n > (next.get(r.partition) ?? -1n)) next.set(r.partition, r.offset + 1n);
      }
      for (const [p, offset] of next) {
        if (offset > (position.get(p) ?? 0n)) position.set(p, offset);
      }
      if (!opts.dryRun && next.size > 0) {
        await group.commit([...next].map(([partition, offset]) => ({
          topic: opts.dlqTopic,
          partition,
          offset,
        })));
      }
    }
    logger.info("re-drive finished", { ...result, dryRun: opts.dryRun });
    return result;
  } finally {
    clearTimeout(timer);
    await group.close();
    await producer.close();
  }
}
