/**
 * The re-drive: moves dead letters back to the topic after a fix, so operators never edit
 * Kafka by hand.
 *
 * It reads the dead-letter topic up to the end offsets seen at start (records dead-lettered
 * meanwhile wait for the next run), produces the matching records with their original key,
 * value and headers (error headers removed, `user_pipeline.redriven_from` added) with
 * acks=all, and only then commits its own consumer group's offsets: a crash re-sends at most
 * the last batch, which the warehouse merge makes harmless. Each filter has its own group, so
 * a filtered run does not consume what a later run with another filter should move.
 */
import type { Kafka } from "kafkajs";
import type { Logger } from "../shared/logger.ts";
import { PRODUCER_DEFAULTS } from "../shared/kafka.ts";
import { createPartitionCounter, sendAcknowledged } from "../shared/kafka_send.ts";
import { toKafkaHeaders } from "./kafka_dead_letters.ts";
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

/**
 * Runs one re-drive to the end offsets seen at start.
 * @throws {Error} when it cannot finish within `timeoutMs`, or Kafka fails.
 */
export async function runRedrive(
  kafka: Kafka,
  opts: RedriveOptions,
  logger: Logger,
): Promise<RedriveResult> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  let start: Map<number, bigint>;
  let targetPartitions: number;
  try {
    targetPartitions = await createPartitionCounter(admin)(opts.topic);
    ends = new Map(
      (await admin.fetchTopicOffsets(opts.dlqTopic)).map((p) => [p.partition, BigInt(p.high)]),
    );
    const [committed] = await admin.fetchOffsets({
      groupId: opts.groupId,
      topics: [opts.dlqTopic],
    });
    start = new Map(
      (committed?.partitions ?? []).map((
        p,
      ) => [p.partition, BigInt(p.offset === "-1" ? 0 : p.offset)]),
    );
  } finally {
    await admin.disconnect();
  }
  const position = new Map<number, bigint>();
  for (const partition of ends.keys()) position.set(partition, start.get(partition) ?? 0n);
  const done = () => [...ends].every(([p, end]) => (position.get(p) ?? 0n) >= end);
  const result: RedriveResult = { moved: 0, skipped: 0 };
  if (done()) return result;

  const producer = kafka.producer(PRODUCER_DEFAULTS);
  const consumer = kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false });
  const finished = Promise.withResolvers<void>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic: opts.dlqTopic, fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
        const end = ends.get(batch.partition) ?? 0n;
        const inRange = batch.messages.filter((m) => BigInt(m.offset) < end);
        const moving = inRange.filter((m) => matchesFilter(m.headers ?? {}, opts.filter));
        if (!opts.dryRun && moving.length > 0) {
          // Acknowledged for every partition before the DLQ offset moves past these records.
          await sendAcknowledged(
            producer,
            opts.topic,
            moving.map((m) => ({
              key: m.key,
              value: m.value,
              headers: toKafkaHeaders(
                redrivenHeaders(m.headers ?? {}, `${opts.dlqTopic}/${batch.partition}/${m.offset}`),
              ),
            })),
            targetPartitions,
          );
        }
        result.moved += moving.length;
        result.skipped += inRange.length - moving.length;
        const last = inRange.at(-1);
        if (last) {
          position.set(batch.partition, BigInt(last.offset) + 1n);
          if (!opts.dryRun) {
            resolveOffset(last.offset);
            await commitOffsetsIfNecessary({
              topics: [{
                topic: opts.dlqTopic,
                partitions: [{
                  partition: batch.partition,
                  offset: String(BigInt(last.offset) + 1n),
                }],
              }],
            });
          }
        }
        await heartbeat();
        if (done()) finished.resolve();
      },
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Re-drive did not finish within ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
    });
    await Promise.race([finished.promise, timeout]);
    logger.info("re-drive finished", { ...result, dryRun: opts.dryRun });
    return result;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    await producer.disconnect();
  }
}
