/**
 * The tracing port (`tracing.ts`) on `@opentelemetry/api`. With `OTEL_DENO=true`, Deno
 * registers its built-in tracer provider and context manager with that API before any code
 * runs, exports over OTLP (`OTEL_EXPORTER_OTLP_*`), and makes the `Deno.serve` span of each
 * request the active span of its handler. Without it, the API holds no provider:
 * `createTracing` then returns `noTracing`, so nothing on the hot path makes a span.
 *
 * Only the programs' `main.ts` import this file; core logic takes the port.
 *
 * @example
 * ```ts
 * const tracing = createTracing("user-pipeline-worker"); // noTracing unless OTEL_DENO=true
 * ```
 */
import {
  context,
  type Span,
  SpanKind as OtelSpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { noTracing, type SpanKind, type TraceSpan, type Tracing } from "./tracing.ts";

/**
 * The OpenTelemetry variables Deno reads (its exporter, batching, resource and propagators):
 * the programs' tasks list them in `--allow-env`. `@opentelemetry/api` reads none.
 */
export const OTEL_ENV = [
  "OTEL_DENO",
  "OTEL_DENO_TRACING",
  "OTEL_DENO_METRICS",
  "OTEL_DENO_CONSOLE",
  "OTEL_SDK_DISABLED",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_PROPAGATORS",
  "OTEL_TRACES_SAMPLER",
  "OTEL_TRACES_SAMPLER_ARG",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
  "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
  "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
  "OTEL_EXPORTER_OTLP_TIMEOUT",
  "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
  "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
  "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
  "OTEL_EXPORTER_OTLP_CERTIFICATE",
  "OTEL_EXPORTER_OTLP_CLIENT_KEY",
  "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
  "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
  "OTEL_METRIC_EXPORT_INTERVAL",
  "OTEL_BSP_SCHEDULE_DELAY",
  "OTEL_BSP_MAX_QUEUE_SIZE",
  "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
  "OTEL_BSP_EXPORT_TIMEOUT",
  "OTEL_BSP_MAX_CONCURRENT_EXPORTS",
  "OTEL_BLRP_SCHEDULE_DELAY",
  "OTEL_BLRP_MAX_QUEUE_SIZE",
  "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
  "OTEL_BLRP_EXPORT_TIMEOUT",
] as const;

/** Where `@opentelemetry/api` 1.x keeps its registered providers (Deno's, when tracing). */
const API_GLOBAL = Symbol.for("opentelemetry.js.api.1");

/** True when a tracer provider is registered with `@opentelemetry/api` (`OTEL_DENO=true`). */
export function otelTracingRegistered(): boolean {
  const api = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[API_GLOBAL];
  return api?.trace !== undefined;
}

const KINDS: Record<SpanKind, OtelSpanKind> = {
  internal: OtelSpanKind.INTERNAL,
  server: OtelSpanKind.SERVER,
  client: OtelSpanKind.CLIENT,
  producer: OtelSpanKind.PRODUCER,
  consumer: OtelSpanKind.CONSUMER,
};

class OtelSpan implements TraceSpan {
  #ended = false;
  constructor(readonly span: Span) {}
  context() {
    return this.span.spanContext();
  }
  setAttributes(attributes: Record<string, string | number | boolean>) {
    this.span.setAttributes(attributes);
  }
  recordError(error: unknown, failed = false) {
    const message = error instanceof Error ? error.message : String(error);
    this.span.recordException(error instanceof Error ? error : message);
    if (failed) this.span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
  end() {
    if (this.#ended) return;
    this.#ended = true;
    this.span.end();
  }
}

/**
 * Tracing through `@opentelemetry/api` under the instrumentation scope `name`, or `noTracing`
 * when no tracer provider is registered (force `enabled` for tests).
 */
export function createTracing(name: string, enabled = otelTracingRegistered()): Tracing {
  if (!enabled) return noTracing;
  const tracer = trace.getTracer(name);
  return {
    enabled: true,
    activeContext() {
      const span = trace.getActiveSpan();
      if (!span || !span.isRecording()) return undefined;
      const { traceId, spanId, traceFlags } = span.spanContext();
      return { traceId, spanId, traceFlags };
    },
    startSpan(spanName, options = {}) {
      const parent = options.parent instanceof OtelSpan
        ? trace.setSpan(context.active(), options.parent.span)
        : context.active();
      const span = tracer.startSpan(spanName, {
        kind: KINDS[options.kind ?? "internal"],
        ...(options.attributes ? { attributes: options.attributes } : {}),
        ...(options.links
          ? { links: options.links.map((c) => ({ context: { ...c, isRemote: true } })) }
          : {}),
        ...(options.root ? { root: true } : {}),
      }, parent);
      return new OtelSpan(span);
    },
    withSpan(span, fn) {
      if (!(span instanceof OtelSpan)) return fn();
      return context.with(trace.setSpan(context.active(), span.span), fn);
    },
  };
}
