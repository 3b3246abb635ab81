/**
 * The test kit's OpenTelemetry collector: an OTLP/HTTP receiver on 127.0.0.1 (a free port)
 * that keeps the spans programs export as JSON (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`).
 * Logs and metrics are accepted and counted; a body that is not JSON (protobuf, the default
 * protocol) is refused with 415, so a wrong setting fails loudly instead of losing spans.
 *
 * @example
 * ```ts
 * import { startProgram } from "./program.ts";
 * import { waitUntil } from "./wait.ts";
 * declare const env: Record<string, string>;
 *
 * await using otlp = await startOtlpReceiver();
 * const program = await startProgram("worker", { ...env, ...otlp.env("user-pipeline-worker") });
 * await waitUntil(() => otlp.spans.some((s) => s.name === "process user_created"), 30_000, "…");
 * ```
 */

/** An OTLP attribute value as JSON carries it. */
type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
};

/** One received span, flattened: ids in hex, attributes as plain values. */
export interface ReceivedSpan {
  /** `service.name` of the resource that exported it. */
  service: string;
  /** The instrumentation scope (`deno` for Deno's own spans). */
  scope: string;
  name: string;
  /** OTLP's numeric kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
}

/** A running receiver. */
export interface OtlpReceiver extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`: the value of `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  url: string;
  /** Every span received so far, in arrival order. */
  spans: ReceivedSpan[];
  /** Requests received per path (`/v1/traces`, `/v1/logs`, `/v1/metrics`). */
  requests: Map<string, number>;
  /** The environment that turns a program's traces on and sends them here as JSON. */
  env(serviceName: string): Record<string, string>;
  close(): Promise<void>;
}

/** Starts a receiver; close it (or `await using`) at the end of the test. */
export function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests = new Map<string, number>();
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => listening.resolve(port),
  }, async (request) => {
    const path = new URL(request.url).pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (request.method !== "POST") return new Response(null, { status: 405 });
    if (!request.headers.get("content-type")?.startsWith("application/json")) {
      await request.body?.cancel();
      return new Response("expected OTLP/HTTP JSON", { status: 415 });
    }
    const body = await request.json();
    if (path === "/v1/traces") spans.push(...flatten(body));
    return Response.json({});
  });
  return listening.promise.then((port) => {
    const url = `http://127.0.0.1:${port}`;
    const close = () => server.shutdown();
    return {
      url,
      spans,
      requests,
      env: (serviceName) => ({
        OTEL_DENO: "true",
        OTEL_SERVICE_NAME: serviceName,
        OTEL_EXPORTER_OTLP_ENDPOINT: url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        // Export often, so that a test sees spans while the program runs.
        OTEL_BSP_SCHEDULE_DELAY: "100",
      }),
      close,
      [Symbol.asyncDispose]: close,
    };
  });
}

// deno-lint-ignore no-explicit-any
function flatten(body: any): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const resource of body?.resourceSpans ?? []) {
    const service = String(
      value(
        resource.resource?.attributes?.find((a: { key: string }) => a.key === "service.name")
          ?.value,
      ) ?? "",
    );
    for (const scope of resource.scopeSpans ?? []) {
      for (const s of scope.spans ?? []) {
        out.push({
          service,
          scope: scope.scope?.name ?? "",
          name: s.name,
          kind: s.kind ?? 0,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          attributes: Object.fromEntries(
            (s.attributes ?? []).map((a: { key: string; value: AnyValue }) => [
              a.key,
              value(a.value),
            ]),
          ),
          links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({
            traceId: l.traceId,
            spanId: l.spanId,
          })),
          status: s.status?.code ?? 0,
        });
      }
    }
  }
  return out;
}

function value(v: AnyValue | undefined): string | number | boolean | undefined {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.boolValue;
}
