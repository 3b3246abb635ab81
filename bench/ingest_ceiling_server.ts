/**
 * The ceilings of `deno task bench:ingest`: servers that do only a prefix of the ingest's work
 * per request, so that the benchmark can say what share of the parts' cost the whole app adds.
 *
 * | mode | per request |
 * | --- | --- |
 * | `bare` | `Deno.serve` reads the body and answers 202 |
 * | `parse` | + strict UTF-8 decode, `JSON.parse`, the shared zod schema on every item |
 * | `verify` | + the project's Standard Webhooks signature check (`webhook_signature.ts`) |
 *
 * Nothing is produced anywhere. Run by the benchmark with the ingest task's V8 flags:
 * `deno run --allow-net=127.0.0.1 --allow-env=WEBHOOK_SECRET bench/ingest_ceiling_server.ts
 * --mode verify`; it logs `{"msg":"listening","port":N}` to stderr like the ingest.
 */
import { parseArgs } from "node:util";
import { userSchema } from "../shared/event.ts";
import { createWebhookVerifier, parseSecret } from "../ingest/http/webhook_signature.ts";

/** The prefixes of the ingest's work a ceiling server does. */
export const CEILING_MODES = ["bare", "parse", "verify"] as const;
/** One of `CEILING_MODES`. */
export type CeilingMode = (typeof CEILING_MODES)[number];

/**
 * The ceiling server's handler for `mode`: 202 for a body that passes the mode's checks, 400
 * or 401 otherwise (a ceiling that accepted everything would hide a broken generator).
 */
export function ceilingHandler(
  mode: CeilingMode,
  secret: string | undefined,
): (request: Request) => Promise<Response> {
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const verifier = mode === "verify"
    ? createWebhookVerifier({ secrets: [parseSecret(secret ?? "")], toleranceSeconds: 300 })
    : null;
  return async (request) => {
    const body = await request.bytes();
    if (mode === "bare") return new Response(null, { status: 202 });
    if (verifier) {
      const h = request.headers;
      try {
        await verifier.verify({
          id: h.get("webhook-id"),
          timestamp: h.get("webhook-timestamp"),
          signature: h.get("webhook-signature"),
        }, body);
      } catch {
        return new Response(null, { status: 401 });
      }
    }
    let data: unknown;
    try {
      data = JSON.parse(utf8.decode(body));
    } catch {
      return new Response(null, { status: 400 });
    }
    const items = Array.isArray(data) ? data : [data];
    for (const item of items) {
      if (!userSchema.safeParse(item).success) return new Response(null, { status: 400 });
    }
    return new Response(null, { status: 202 });
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      mode: { type: "string", default: "bare" },
      port: { type: "string", default: "0" },
    },
  });
  const mode = CEILING_MODES.find((m) => m === values.mode);
  if (!mode) throw new Error(`Cannot parse --mode: expected ${CEILING_MODES.join(", ")}`);
  const encoder = new TextEncoder();
  const log = (line: Record<string, unknown>) =>
    Deno.stderr.writeSync(encoder.encode(JSON.stringify(line) + "\n"));
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: Number(values.port),
    onListen: ({ port }) => log({ level: "info", msg: "listening", port, mode }),
  }, ceilingHandler(mode, Deno.env.get("WEBHOOK_SECRET")));
  Deno.addSignalListener("SIGTERM", () => void server.shutdown().then(() => Deno.exit(0)));
}
