/**
 * One batch, from records to rows and dead letters: decode and validate every record, collapse
 * duplicates of one id, upsert the survivors in one transaction (splitting out rows the
 * warehouse rejects), and write the dead letters. When it returns, every record of the batch is
 * either in the warehouse, superseded by a newer record of the batch, or acknowledged on the
 * dead-letter topic: the caller may resolve the offsets. When it throws, nothing may be
 * committed.
 *
 * With tracing on, decoding and the dead-letter send are spans (children of the flush's span,
 * which the committer makes active); the sink makes the statements' spans.
 */
import type { ConsumedRecord } from "../../shared/kafka/consumer_group.ts";
import {
  type DeadLetter,
  DeadLetterError,
  type DeadLetterSink,
  toDeadLetter,
} from "./dead_letter.ts";
import { dedupeLatest } from "../which_event_wins.ts";
import { type DecodedRecord, inlineDecoder, type RecordDecoder } from "../decode/record_decoder.ts";
import type { UserRow } from "../warehouse/user_row.ts";
import { type IsolatedWrite, upsertIsolating } from "./upsert_isolating.ts";
import type { Sink } from "../warehouse/port.ts";
import { inSpan, noTracing, type Tracing } from "../../shared/tracing.ts";
import { type Hold, PartitionHolds } from "./partition_holds.ts";

/** What `handleBatch` needs. */
export interface BatchDeps {
  sink: Sink;
  deadLetters: DeadLetterSink;
  now: () => Date;
  /** Decodes the values (default: on this thread). */
  decoder?: RecordDecoder;
  /** Spans (default: none). */
  tracing?: Tracing;
  /** The dead-letter topic, named on the send's span. */
  deadLetterTopic?: string;
  /**
   * The partitions held at a record of a newer version (default: a new set for this batch).
   * The committer shares it, so that it never commits past a hold.
   */
  holds?: PartitionHolds;
}

/** What a batch came to. */
export interface BatchOutcome {
  /** Rows written (inserted or merged; a stale event counts, it is a no-op by design). */
  rows: number;
  /** Of `rows`, those the warehouse left as they were: its stored row was as new or newer. */
  stale: number;
  /** Records dropped in favour of a newer record for the same id in the same batch. */
  superseded: number;
  /** Dead letters written. */
  deadLetters: DeadLetter[];
  /** Records neither written nor dead-lettered: at or past a hold of their partition. */
  held: number;
  /** The partitions this batch held (a record of a newer version, met for the first time). */
  newHolds: Hold[];
}

interface Candidate {
  message: ConsumedRecord;
  row: UserRow;
}

/**
 * Decodes and validates the values of `messages` (the part of a batch that can run while the
 * batch before it is written).
 */
export function decodeBatch(
  messages: readonly ConsumedRecord[],
  decoder: RecordDecoder = inlineDecoder,
  tracing: Tracing = noTracing,
): Promise<DecodedRecord[]> {
  const decode = () => decoder.decode(messages.map((m) => m.value));
  if (!tracing.enabled) return decode();
  return inSpan(tracing, "decode", {
    attributes: { "messaging.batch.message_count": messages.length },
  }, decode);
}

/**
 * Handles `messages` (in offset order, any partitions), decoding them unless `decoded` (from
 * `decodeBatch`) is given.
 * @throws {WriteError} (action `retry`) when the warehouse is unavailable.
 * @throws {DeadLetterError} when the dead letters could not be written.
 */
export async function handleBatch(
  messages: readonly ConsumedRecord[],
  deps: BatchDeps,
  decoded?: readonly DecodedRecord[],
): Promise<BatchOutcome> {
  const now = deps.now();
  const candidates: Candidate[] = [];
  const deadLetters: DeadLetter[] = [];
  decoded ??= await decodeBatch(messages, deps.decoder, deps.tracing);
  const holds = deps.holds ?? new PartitionHolds();
  const newHolds: Hold[] = [];
  let held = 0;
  messages.forEach((message, i) => {
    // Records arrive in offset order per partition: once one is held, the rest of its
    // partition in this batch is too.
    if (holds.size > 0 && holds.holds(message.topic, message.partition, message.offset)) {
      held++;
      return;
    }
    const d = decoded[i]!;
    if (d.ok) {
      candidates.push({ message, row: d.row });
    } else if (d.stage === "newer") {
      const hold = {
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
        version: d.version,
      };
      if (holds.hold(hold)) newHolds.push(hold);
      held++;
    } else {
      deadLetters.push(toDeadLetter(message, d, now));
    }
  });

  const { rounds, superseded } = dedupeLatest(candidates);
  let written = 0;
  let stale = 0;
  const rejected: IsolatedWrite<Candidate>["rejected"] = [];
  for (const round of rounds) {
    const r = await upsertIsolating(round, (c) => c.row, deps.sink);
    written += r.written;
    stale += r.stale;
    rejected.push(...r.rejected);
  }
  for (const { item, error } of rejected) {
    deadLetters.push(toDeadLetter(item.message, { stage: "write", reason: error.message }, now));
  }

  if (deadLetters.length > 0) {
    try {
      await inSpan(deps.tracing ?? noTracing, `send ${deps.deadLetterTopic ?? "dead letters"}`, {
        kind: "producer",
        attributes: {
          "messaging.system": "kafka",
          "messaging.operation.type": "send",
          "messaging.operation.name": "send",
          "messaging.batch.message_count": deadLetters.length,
          ...(deps.deadLetterTopic ? { "messaging.destination.name": deps.deadLetterTopic } : {}),
        },
      }, () => deps.deadLetters.send(deadLetters));
    } catch (err) {
      throw new DeadLetterError(
        `Cannot write ${deadLetters.length} dead letters: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  return { rows: written, stale, superseded: superseded.length, deadLetters, held, newHolds };
}
