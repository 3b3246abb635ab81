/**
 * Tracing, as the programs' core logic sees it: a small port over OpenTelemetry, with a no-op
 * default, so that the pure stages never load a client library and cost nothing when traces
 * are off.
 *
 * `otel_tracing.ts` implements it on `@opentelemetry/api`, which Deno wires to its built-in
 * exporter when `OTEL_DENO=true`; `main.ts` picks `noTracing` otherwise. Callers check
 * `enabled` before building what only a span needs (links, attributes), so the hot path makes
 * no span objects when traces are off.
 *
 * @example
 * ```ts
 * declare const tracing: Tracing, rows: unknown[], write: (rows: unknown[]) => Promise<void>;
 *
 * const span = tracing.startSpan("process user_created", { kind: "consumer", root: true });
 * await tracing.withSpan(span, () => write(rows)); // spans started inside are its children
 * span.end();
 * ```
 */

/** Attribute values as OpenTelemetry takes them. */
export type Attributes = Record<string, string | number | boolean>;

/** A span's identity, as a `traceparent` header carries it. */
export interface SpanContext {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** 16 lower-case hex digits, not all zero. */
  spanId: string;
  /** W3C trace flags (bit 0: sampled). */
  traceFlags: number;
}

/** What a span is, in OpenTelemetry's terms. */
export type SpanKind = "internal" | "server" | "client" | "producer" | "consumer";

/** How a span starts. */
export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Spans this one is linked to (a batch's records), in the order given. */
  links?: readonly SpanContext[];
  /** A new trace instead of a child of the active span. */
  root?: boolean;
  /** The parent, instead of the active span. */
  parent?: TraceSpan;
}

/** One started span. */
export interface TraceSpan {
  /** Its context (valid only when tracing is enabled). */
  context(): SpanContext;
  setAttributes(attributes: Attributes): void;
  /** Records `error` as an exception event; `failed` also sets the span's status to error. */
  recordError(error: unknown, failed?: boolean): void;
  /** Ends the span: it is exported from then on. Only the first call counts. */
  end(): void;
}

/** The tracer a program hands to its parts. */
export interface Tracing {
  /** False: every span is a no-op, and callers skip building links and attributes. */
  readonly enabled: boolean;
  /** The context of the span active here (in the ingest: `Deno.serve`'s request span). */
  activeContext(): SpanContext | undefined;
  startSpan(name: string, options?: SpanOptions): TraceSpan;
  /** Runs `fn` with `span` active: spans started in it, across its awaits, are children. */
  withSpan<T>(span: TraceSpan, fn: () => T): T;
}

const NO_CONTEXT: SpanContext = {
  traceId: "00000000000000000000000000000000",
  spanId: "0000000000000000",
  traceFlags: 0,
};

const NO_SPAN: TraceSpan = {
  context: () => NO_CONTEXT,
  setAttributes() {},
  recordError() {},
  end() {},
};

/** Tracing off: no spans, no contexts, `fn` runs as it is. */
export const noTracing: Tracing = {
  enabled: false,
  activeContext: () => undefined,
  startSpan: () => NO_SPAN,
  withSpan: (_span, fn) => fn(),
};

/**
 * Runs `fn` in a new child span of the active one (or of `options.parent`) that ends when the
 * promise settles; a rejection is recorded on the span, which is then marked failed. With
 * tracing off, only `fn` runs.
 */
export async function inSpan<T>(
  tracing: Tracing,
  name: string,
  options: SpanOptions,
  fn: () => Promise<T>,
): Promise<T> {
  if (!tracing.enabled) return await fn();
  const span = tracing.startSpan(name, options);
  try {
    return await tracing.withSpan(span, fn);
  } catch (err) {
    span.recordError(err, true);
    throw err;
  } finally {
    span.end();
  }
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ALL_ZERO = /^0+$/;

/** A version-00 `traceparent` as a span context; undefined when it is not a valid one. */
export function parseTraceparent(value: string): SpanContext | undefined {
  const match = TRACEPARENT.exec(value);
  if (!match || ALL_ZERO.test(match[1]!) || ALL_ZERO.test(match[2]!)) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16) };
}

/** A span context as a version-00 `traceparent` header. */
export function formatTraceparent(context: SpanContext): string {
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, "0");
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}
