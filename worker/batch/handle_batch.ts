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
import type { ConsumedMessage } from "../consume/consumed_message.ts";
import {
  type DeadLetter,
  DeadLetterError,
  type DeadLetterSink,
  toDeadLetter,
} from "./dead_letter.ts";
import { dedupeLatest } from "../which_event_wins.ts";
import { type DecodedRecord, inlineDecoder, type RecordDecoder } from "../decode/record_decoder.ts";
import type { UserRow } from "../warehouse/user_row.ts";
import { upsertIsolating } from "./upsert_isolating.ts";
import type { Sink } from "../warehouse/port.ts";
import { inSpan, noTracing, type Tracing } from "../../shared/tracing.ts";

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
}

interface Candidate {
  message: ConsumedMessage;
  row: UserRow;
}

/**
 * Decodes and validates the values of `messages` (the part of a batch that can run while the
 * batch before it is written).
 */
export function decodeBatch(
  messages: readonly ConsumedMessage[],
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
 * @throws {WriteError} when the warehouse is unavailable (retriable).
 * @throws {DeadLetterError} when the dead letters could not be written.
 */
export async function handleBatch(
  messages: readonly ConsumedMessage[],
  deps: BatchDeps,
  decoded?: readonly DecodedRecord[],
): Promise<BatchOutcome> {
  const now = deps.now();
  const candidates: Candidate[] = [];
  const deadLetters: DeadLetter[] = [];
  decoded ??= await decodeBatch(messages, deps.decoder, deps.tracing);
  messages.forEach((message, i) => {
    const d = decoded[i]!;
    if (d.ok) {
      candidates.push({ message, row: d.row });
    } else {
      deadLetters.push(toDeadLetter(message, d, now));
    }
  });

  const { kept, superseded } = dedupeLatest(candidates);
  const { written, stale, rejected } = await upsertIsolating(kept, (c) => c.row, deps.sink);
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
  return { rows: written, stale, superseded: superseded.length, deadLetters };
}
