/**
 * The ops HTTP endpoints: `/healthz` (the process and its consumer loop are alive),
 * `/readyz` (in the group, the warehouse answers, and no write hangs), `/metrics` (Prometheus
 * text).
 */
import { METRICS_CONTENT_TYPE, type Registry } from "../shared/metrics.ts";

/** What the handler asks the worker. */
export interface OpsDeps {
  registry: Registry;
  /** False once the watchdog has seen the consumer loop stall. */
  live: () => boolean;
  /**
   * True when the consumer is running, the last warehouse contact succeeded, and no write has
   * been in progress for long.
   */
  ready: () => boolean;
  /** Why it is not ready (a Kafka or warehouse problem, a hung write), for `/readyz`'s body. */
  problem?: () => string | undefined;
}

/** Creates the `Deno.serve` handler. */
export function createOpsHandler(deps: OpsDeps): (req: Request) => Response {
  return (req) => {
    const path = new URL(req.url).pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    switch (path) {
      case "/healthz":
        return status(deps.live());
      case "/readyz": {
        const ok = deps.live() && deps.ready();
        const problem = ok ? undefined : deps.problem?.();
        return Response.json(problem ? { ok, problem } : { ok }, { status: ok ? 200 : 503 });
      }
      case "/metrics":
        return new Response(deps.registry.render(), {
          headers: { "content-type": METRICS_CONTENT_TYPE },
        });
      default:
        return new Response("not found\n", { status: 404 });
    }
  };
}

function status(ok: boolean): Response {
  return Response.json({ ok }, { status: ok ? 200 : 503 });
}
