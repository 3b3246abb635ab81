/**
 * The console bench's memory rounds (`bench/console_bench.ts`, phase 5): consoles side by side,
 * each with its pages open, take the same round of look-ups and long scans, round after round,
 * in turn (who goes first rotates). A console whose memory grows per round keeps something per
 * search (a leak); one that rises in the first round and then stays is at a high-water mark.
 *
 * Every console's RSS is read every second and right after its share of each round; a console
 * of this checkout also logs its heap after each search (`LOG_LEVEL=debug`, `msg: "search"`),
 * read from its log.
 */
import type { LogLine, RunningProgram } from "../testing/program.ts";
import { cpuSeconds } from "./ingest_sampler.ts";
import { quantile, rssKiB } from "./worker_bench_parts.ts";

/** A console under measure. */
export interface Contender {
  label: string;
  program: RunningProgram;
}

/** What each round asks and how long a request may take. */
export interface RoundsOptions {
  rounds: number;
  /** The user ids looked up in every round. */
  users: readonly string[];
  /** Long scans per round: a search by an event id nobody has. */
  scans: number;
  requestTimeoutMs: number;
  say: (msg: string) => void;
}

/** One console's memory and speed through the rounds. */
export interface ContenderRounds {
  label: string;
  /** RSS once started with its pages open, before the first round (MiB). */
  beforeMiB: number;
  /** Per round: RSS right after its share, the highest RSS sampled during the round (MiB). */
  afterRoundMiB: number[];
  peakRoundMiB: number[];
  /**
   * Per round, from its `search` log lines: V8's largest heap size, and the smallest heap use
   * after a search (the closest to what stays live; MiB; null: the console logs none).
   */
  heapTotalMiB: (number | null)[];
  heapUsedMiB: (number | null)[];
  lookupMs: number[];
  scanMs: number[];
  /** CPU seconds (user + system, every thread: V8's collector too) over its shares of the rounds. */
  cpuSeconds: number;
  /** Requests that did not answer 200 (or did not answer). */
  failed: number;
}

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

/** Runs the rounds; every contender must be listening with its pages open. */
export async function runRounds(
  contenders: readonly Contender[],
  opts: RoundsOptions,
): Promise<ContenderRounds[]> {
  const results = await Promise.all(contenders.map(async (c): Promise<ContenderRounds> => ({
    label: c.label,
    beforeMiB: mib(await rssKiB(c.program.pid)),
    afterRoundMiB: [],
    peakRoundMiB: [],
    heapTotalMiB: [],
    heapUsedMiB: [],
    lookupMs: [],
    scanMs: [],
    cpuSeconds: 0,
    failed: 0,
  })));
  const peaks = contenders.map(() => 0);
  let sampling = true;
  const sampler = (async () => {
    // Bounded by the rounds themselves; the cap only guards against a stuck loop.
    for (let i = 0; sampling && i < 3_600; i++) {
      const kib = await Promise.all(contenders.map((c) => rssKiB(c.program.pid)));
      kib.forEach((k, j) => (peaks[j] = Math.max(peaks[j]!, k)));
      await new Promise((r) => setTimeout(r, 1_000));
    }
  })();
  try {
    for (let round = 0; round < opts.rounds; round++) {
      for (let k = 0; k < contenders.length; k++) {
        const j = (round + k) % contenders.length;
        const c = contenders[j]!;
        const r = results[j]!;
        opts.say(`round ${round + 1}/${opts.rounds}: ${c.label}`);
        peaks[j] = await rssKiB(c.program.pid);
        const logged = c.program.logs.length;
        const cpu = await cpuSeconds(c.program.pid);
        await oneRound(c, r, opts);
        r.cpuSeconds += (await cpuSeconds(c.program.pid)) - cpu;
        const after = await rssKiB(c.program.pid);
        r.afterRoundMiB.push(mib(after));
        r.peakRoundMiB.push(mib(Math.max(peaks[j]!, after)));
        const heap = searchHeap(c.program.logs.slice(logged));
        r.heapTotalMiB.push(heap?.totalMax ?? null);
        r.heapUsedMiB.push(heap?.usedMin ?? null);
      }
    }
  } finally {
    sampling = false;
    await sampler;
  }
  return results;
}

async function oneRound(c: Contender, r: ContenderRounds, opts: RoundsOptions): Promise<void> {
  const base = `http://127.0.0.1:${c.program.port}`;
  const ask = async (query: string, into: number[]) => {
    const t = performance.now();
    try {
      const res = await fetch(`${base}/api/find?${query}`, {
        signal: AbortSignal.timeout(opts.requestTimeoutMs),
      });
      await res.body?.cancel();
      if (res.status === 200) into.push(performance.now() - t);
      else r.failed++;
    } catch {
      r.failed++;
    }
  };
  for (const id of opts.users) await ask(`user_id=${id}`, r.lookupMs);
  for (let i = 0; i < opts.scans; i++) await ask(`event_id=${crypto.randomUUID()}`, r.scanMs);
}

function searchHeap(logs: readonly LogLine[]): { totalMax: number; usedMin: number } | undefined {
  const searches = logs.filter((l) => l.msg === "search" && typeof l.heapTotalMiB === "number");
  if (searches.length === 0) return undefined;
  return {
    totalMax: Math.max(...searches.map((l) => Number(l.heapTotalMiB))),
    usedMin: Math.min(...searches.map((l) => Number(l.heapUsedMiB))),
  };
}

/** p50 and p99 (or the max) of some durations, in ms. */
export function spread(ms: readonly number[]): { p50: number; p99: number; max: number } {
  const sorted = ms.toSorted((a, b) => a - b);
  const r = (n: number) => Math.round(n);
  return sorted.length === 0 ? { p50: NaN, p99: NaN, max: NaN } : {
    p50: r(quantile(sorted, 0.5)),
    p99: r(quantile(sorted, 0.99)),
    max: r(sorted.at(-1)!),
  };
}
