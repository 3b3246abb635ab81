/**
 * Samples a process's resident set size with `ps -o rss=` (Deno needs no /proc access for
 * that), keeping the maximum.
 */

/** A running sampler. */
export interface RssSampler {
  /** The largest RSS seen so far, in MiB (one decimal). */
  maxMiB(): number;
  stop(): void;
}

/** Samples `pid` every `intervalMs` until `stop()`. */
export function sampleRss(pid: number, intervalMs: number): RssSampler {
  let maxKiB = 0;
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    try {
      const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] })
        .output();
      const kib = Number(new TextDecoder().decode(out.stdout).trim());
      if (Number.isFinite(kib)) maxKiB = Math.max(maxKiB, kib);
    } finally {
      busy = false;
    }
  };
  void sample();
  const timer = setInterval(sample, intervalMs);
  return {
    maxMiB: () => Math.round((maxKiB / 1024) * 10) / 10,
    stop: () => clearInterval(timer),
  };
}
