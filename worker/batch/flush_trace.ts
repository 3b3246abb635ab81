/**
 * The span of one flush, after OpenTelemetry's messaging conventions for batch processing: a
 * new trace (`process <topic>`, kind consumer) with one link per record context, since a batch
 * holds records of many traces and can be the child of none. Its children are the decoding,
 * the warehouse statements, the dead-letter send and the offset commit.
 *
 * Only called when tracing is on: with it off, the committer makes no span and reads no header.
 */
import type { Attributes, SpanContext, TraceSpan, Tracing } from "../../shared/tracing.ts";
import { parseTraceparent } from "../../shared/tracing.ts";
import { headerText } from "../../shared/record_headers.ts";
import type { ConsumedRecord } from "../../shared/kafka/consumer_group.ts";
import type { BatchOutcome } from "./handle_batch.ts";

/**
 * The contexts of the records' `traceparent` headers (a repeated one's last value), each once,
 * in first-seen order.
 */
export function recordContexts(messages: readonly ConsumedRecord[]): SpanContext[] {
  const seen = new Set<string>();
  const out: SpanContext[] = [];
  for (const m of messages) {
    const text = headerText(m.headers, "traceparent");
    if (text === undefined) continue;
    if (seen.has(text)) continue;
    seen.add(text);
    const context = parseTraceparent(text);
    if (context) out.push(context);
  }
  return out;
}

/** The attributes every span about Kafka carries. */
export function kafkaAttributes(topic: string, consumerGroup?: string): Attributes {
  return {
    "messaging.system": "kafka",
    "messaging.destination.name": topic,
    ...(consumerGroup ? { "messaging.consumer.group.name": consumerGroup } : {}),
  };
}

/** Starts the span of a flush of `messages` (all from one topic, as the worker consumes one). */
export function startFlushSpan(
  tracing: Tracing,
  messages: readonly ConsumedRecord[],
  consumerGroup?: string,
): TraceSpan {
  const topic = messages[0]?.topic ?? "";
  return tracing.startSpan(`process ${topic}`, {
    kind: "consumer",
    root: true,
    links: recordContexts(messages),
    attributes: {
      ...kafkaAttributes(topic, consumerGroup),
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      "messaging.batch.message_count": messages.length,
    },
  });
}

/** Adds what a flush came to. */
export function recordOutcome(span: TraceSpan, outcome: BatchOutcome): void {
  span.setAttributes({
    "user_pipeline.rows_written": outcome.rows,
    "user_pipeline.records_superseded": outcome.superseded,
    "user_pipeline.rows_stale": outcome.stale,
    "user_pipeline.dead_letters": outcome.deadLetters.length,
  });
}
