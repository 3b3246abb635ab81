/**
 * Pages of the console as the benchmark opens them: plain `fetch` streams of `GET /api/live`
 * (server-sent events) that count the snapshots each one received and remember their times, so
 * that ten pages can be shown to receive the same snapshots of one poller.
 */

/** Open event streams. */
export interface SseClients {
  /** How many are open. */
  size(): number;
  /** Snapshots each client has received so far. */
  counts(): number[];
  /** The `time` of every snapshot each client received, in arrival order. */
  times(): number[][];
  /** Closes every stream (waits at most 5 s for them to end). */
  close(): Promise<void>;
}

/** The `time` of each `snapshot` message in `text`, and the text after the last whole message. */
export function snapshotTimes(text: string): { times: number[]; rest: string } {
  const times: number[] = [];
  const messages = text.split("\n\n");
  const rest = messages.pop() ?? "";
  for (const m of messages) {
    if (!m.startsWith("event: snapshot\n")) continue;
    const time = /^data: \{"time":(\d+)/m.exec(m)?.[1];
    if (time !== undefined) times.push(Number(time));
  }
  return { times, rest };
}

/**
 * Opens `n` streams of `url` and resolves once each has its first message (`hello`).
 * @throws {Error} when a stream does not answer 200 within `timeoutMs` (default 10,000).
 */
export async function openSseClients(
  url: string,
  n: number,
  timeoutMs = 10_000,
): Promise<SseClients> {
  const aborts: AbortController[] = [];
  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  const received: number[][] = [];
  const reading: Promise<void>[] = [];
  const open = async () => {
    const abort = new AbortController();
    aborts.push(abort);
    const times: number[] = [];
    received.push(times);
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    const response = await fetch(url, { signal: abort.signal });
    if (response.status !== 200 || !response.body) {
      throw new Error(`GET ${url}: ${response.status}`);
    }
    // The body's own reader (no piping), so that cancelling it ends the stream at once.
    const reader = response.body.getReader();
    readers.push(reader);
    const decoder = new TextDecoder();
    const first = await reader.read();
    clearTimeout(timer);
    if (first.done) throw new Error(`GET ${url}: the stream ended before its first message`);
    let rest = decoder.decode(first.value, { stream: true });
    reading.push((async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          const parsed = snapshotTimes(rest + decoder.decode(value, { stream: true }));
          times.push(...parsed.times);
          rest = parsed.rest;
        }
      } catch { /* closed */ }
    })());
  };
  const clients: SseClients = {
    size: () => aborts.length,
    counts: () => received.map((t) => t.length),
    times: () => received.map((t) => [...t]),
    async close() {
      for (const r of readers) r.cancel().catch(() => {});
      for (const a of aborts) a.abort();
      // Bounded: a stream that does not end within 5 s is left to the process's exit.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(reading),
        new Promise((resolve) => timer = setTimeout(resolve, 5_000)),
      ]);
      clearTimeout(timer);
    },
  };
  try {
    for (let i = 0; i < n; i++) await open();
  } catch (err) {
    await clients.close();
    throw err;
  }
  return clients;
}
