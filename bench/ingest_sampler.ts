/**
 * Samples a process's resident set size (`ps -o rss=`) and CPU time (`/proc/PID/stat`, and per
 * thread `/proc/PID/task/TID/stat`, read through `cat` because Deno reads under /proc only with
 * --allow-all), for the benchmarks.
 */

/** A running sampler. */
export interface ProcessSampler {
  /** The largest RSS seen so far, in MiB (one decimal). */
  maxRssMiB(): number;
  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): Promise<number>;
  stop(): void;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** Samples `pid`'s RSS every `intervalMs` until `stop()`. */
export function sampleProcess(pid: number, intervalMs: number): ProcessSampler {
  let maxKiB = 0;
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    try {
      const kib = Number(await run("ps", ["-o", "rss=", "-p", String(pid)]));
      if (Number.isFinite(kib)) maxKiB = Math.max(maxKiB, kib);
    } finally {
      busy = false;
    }
  };
  void sample();
  const timer = setInterval(sample, intervalMs);
  return {
    maxRssMiB: () => Math.round((maxKiB / 1024) * 10) / 10,
    cpuSeconds: () => cpuSeconds(pid),
    stop: () => clearInterval(timer),
  };
}

/** CPU seconds (user + system) used by `pid` so far; NaN when it is gone. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await run("cat", [`/proc/${pid}/stat`]);
  // Fields after the command name (which may contain spaces) start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds the whole machine has been busy so far, summed over its cores (`/proc/stat`:
 * everything but idle and I/O wait), whoever used them: on a shared machine, other runs'
 * processes too.
 */
export async function machineBusySeconds(): Promise<number> {
  const stat = await run("cat", ["/proc/stat"]);
  const cpu = stat.split("\n").find((l) => l.startsWith("cpu "));
  if (!cpu) return Number.NaN;
  // user nice system idle iowait irq softirq steal (guest time is inside user already)
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = cpu.trim().split(/\s+/)
    .slice(1).map(Number);
  return [user, nice, system, irq, softirq, steal].reduce((a, b) => a! + (b ?? 0), 0)! /
    CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds (user + system) used so far by the main thread of `pid` (the thread whose id is
 * the process's: where a Deno program's JavaScript runs, unless it starts Web Workers); NaN
 * when it is gone. A main thread near a full core is what caps a single-process server.
 */
export async function mainThreadCpuSeconds(pid: number): Promise<number> {
  const stat = await run("cat", [`/proc/${pid}/task/${pid}/stat`]);
  if (!stat) return Number.NaN;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds (user + system) used so far by the threads of `pid` whose name starts with
 * `prefix` (Deno names a Web Worker's thread `worker-N`); NaN when the process is gone.
 */
export async function threadCpuSeconds(pid: number, prefix: string): Promise<number> {
  const text = await run("sh", [
    "-c",
    `cd /proc/${pid}/task && for t in *; do printf '%s|%s\\n' "$(cat $t/comm)" "$(cat $t/stat)"; done`,
  ]);
  if (!text) return Number.NaN;
  let ticks = 0;
  let threads = 0;
  for (const line of text.split("\n")) {
    const bar = line.indexOf("|");
    if (!line.slice(0, bar).startsWith(prefix)) continue;
    threads++;
    const stat = line.slice(bar + 1);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return threads === 0 ? Number.NaN : ticks / CLOCK_TICKS_PER_SECOND;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}
