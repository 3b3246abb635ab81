/**
 * What a program costs another: from CPU time sampled over alternating windows with it off and
 * on (off, on, off, on, … in one run, so that the machine's drift falls on both sides), each
 * measured process's CPU cores with it off and on, the difference, and the difference as a
 * percentage of one core. The spread between windows of the same kind is printed beside it:
 * a difference smaller than the spread is noise.
 *
 * @example
 * ```ts
 * const rows = cpuOverhead([
 *   { mode: "off", seconds: 30, cpuSeconds: { broker: 3.0 } },
 *   { mode: "on", seconds: 30, cpuSeconds: { broker: 3.3 } },
 * ]);
 * // [{ process: "broker", offCores: 0.1, onCores: 0.11, diffCores: 0.01, percentOfCore: 1, … }]
 * ```
 */

/** One measured window: its kind, its length and the CPU seconds each process used in it. */
export interface CpuWindow {
  mode: "off" | "on";
  seconds: number;
  cpuSeconds: Record<string, number>;
}

/** One process's cores with the thing measured off and on. */
export interface CpuOverhead {
  process: string;
  /** CPU seconds over wall seconds of every `off` window together. */
  offCores: number;
  onCores: number;
  /** `onCores - offCores`. */
  diffCores: number;
  /** The difference as a percentage of one core (0.01 cores is 1 %). */
  percentOfCore: number;
  /** The largest minus the smallest per-window cores among the `off` windows, and the `on`. */
  spreadOff: number;
  spreadOn: number;
  /** Windows of each kind that had a value for this process. */
  windows: { off: number; on: number };
}

/**
 * The overhead per process, in the order processes first appear. A window without a finite
 * value for a process (the process was gone) is left out for that process.
 * @throws {Error} when a window's length is not a positive number.
 */
export function cpuOverhead(windows: readonly CpuWindow[]): CpuOverhead[] {
  const names: string[] = [];
  for (const w of windows) {
    if (!(w.seconds > 0)) throw new Error(`Cannot use a window of ${w.seconds} s`);
    for (const name of Object.keys(w.cpuSeconds)) if (!names.includes(name)) names.push(name);
  }
  return names.map((process) => {
    const of = (mode: CpuWindow["mode"]) =>
      windows.filter((w) => w.mode === mode && Number.isFinite(w.cpuSeconds[process]));
    const cores = (ws: CpuWindow[]) =>
      ws.reduce((s, w) => s + w.cpuSeconds[process]!, 0) / ws.reduce((s, w) => s + w.seconds, 0);
    const spread = (ws: CpuWindow[]) => {
      const each = ws.map((w) => w.cpuSeconds[process]! / w.seconds);
      return each.length < 2 ? Number.NaN : Math.max(...each) - Math.min(...each);
    };
    const off = of("off");
    const on = of("on");
    const offCores = off.length ? cores(off) : Number.NaN;
    const onCores = on.length ? cores(on) : Number.NaN;
    const diffCores = onCores - offCores;
    return {
      process,
      offCores,
      onCores,
      diffCores,
      percentOfCore: diffCores * 100,
      spreadOff: spread(off),
      spreadOn: spread(on),
      windows: { off: off.length, on: on.length },
    };
  });
}
