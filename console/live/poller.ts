/**
 * The one poller: samples once per interval whatever the number of open pages, keeps the
 * history, and hands every snapshot to every listener (each page's event stream). Ten tabs
 * add ten listeners, not ten pollers. A sample never overlaps the previous one, and a failed
 * sample is logged and skipped.
 */
import type { Logger } from "../../shared/logger.ts";
import { type Point, type Snapshot, toPoint } from "./snapshot.ts";

/** Called with each new snapshot. */
export type Listener = (snapshot: Snapshot) => void;

/** The running poller. */
export interface Poller {
  /** Starts the loop (idempotent). */
  start(): void;
  /** Stops the loop; resolves when a sample in progress has ended. */
  stop(): Promise<void>;
  /** Takes one sample now and hands it out (the loop calls this; tests call it directly). */
  tick(): Promise<void>;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: Listener): () => void;
  /** How many listeners there are. */
  listeners(): number;
  latest(): Snapshot | undefined;
  /** The history, oldest first. */
  history(): Point[];
}

/** Options of `createPoller`. */
export interface PollerOptions {
  sample: () => Promise<Snapshot>;
  intervalMs: number;
  /** Most history points kept (older ones are dropped). */
  historySize: number;
  logger: Logger;
}

/** Creates a poller; nothing runs before `start` or `tick`. */
export function createPoller(opts: PollerOptions): Poller {
  const listeners = new Set<Listener>();
  const points: Point[] = [];
  let latest: Snapshot | undefined;
  let running = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> | undefined;
  let failures = 0;

  const tick = async () => {
    let snapshot: Snapshot;
    try {
      snapshot = await opts.sample();
      failures = 0;
    } catch (err) {
      // Once, then every 60th failure in a row: an outage does not flood the log.
      if (failures++ % 60 === 0) {
        opts.logger.warn("sample failed", { error: (err as Error).message, inARow: failures });
      }
      return;
    }
    latest = snapshot;
    points.push(toPoint(snapshot));
    if (points.length > opts.historySize) points.splice(0, points.length - opts.historySize);
    for (const listener of [...listeners]) {
      try {
        listener(snapshot);
      } catch (err) {
        opts.logger.warn("listener failed", { error: (err as Error).message });
        listeners.delete(listener);
      }
    }
  };

  const loop = () => {
    if (!running) return;
    const started = Date.now();
    inFlight = tick().finally(() => {
      inFlight = undefined;
      if (!running) return;
      const wait = Math.max(0, opts.intervalMs - (Date.now() - started));
      timer = setTimeout(loop, wait);
    });
  };

  return {
    start() {
      if (running) return;
      running = true;
      loop();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await inFlight;
    },
    tick,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    listeners: () => listeners.size,
    latest: () => latest,
    history: () => [...points],
  };
}
