/**
 * Server-sent events for one page: first the history and the latest snapshot (`hello`), then
 * every new snapshot (`snapshot`) as the one poller takes it. A page that stops reading is
 * dropped once 30 snapshots wait for it, so a slow client cannot grow the server's memory.
 */
import type { Poller } from "../live/poller.ts";

/** Most snapshots queued for one client before it is dropped. */
const MAX_QUEUED = 30;

const encoder = new TextEncoder();

/** One SSE message. */
export function sseMessage(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** The event-stream response for one page, fed by `poller`. */
export function sseResponse(poller: Poller, signal?: AbortSignal): Response {
  let unsubscribe: (() => void) | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(sseMessage("hello", {
        history: poller.history(),
        latest: poller.latest() ?? null,
      }));
      const close = () => {
        unsubscribe?.();
        unsubscribe = undefined;
        try {
          controller.close();
        } catch { /* already closed */ }
      };
      unsubscribe = poller.subscribe((snapshot) => {
        if ((controller.desiredSize ?? 0) <= -MAX_QUEUED) return close();
        controller.enqueue(sseMessage("snapshot", snapshot));
      });
      signal?.addEventListener("abort", close, { once: true });
    },
    cancel() {
      unsubscribe?.();
      unsubscribe = undefined;
    },
  }, { highWaterMark: 1 });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}
