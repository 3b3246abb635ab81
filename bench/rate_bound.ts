/**
 * Which bound a benchmark's rate hit, from what the run measured: the offered rate, the
 * server's main thread, the load generator's main thread, the machine's cores (busy with
 * anything, other runs included), or else the time each connection waits for its answer.
 *
 * On two shared cores the events/s a server reaches moves with how the cores are split between
 * it and the load generator; naming the bound says which of those a number measured. A thread
 * at `BUSY` of a core or more is taken as saturated (a JavaScript main thread rarely shows a
 * full core: it waits on its own I/O between tasks). Otherwise the rate follows from Little's
 * law: `connections × batch / latency`; with the median latency that is an estimate of the
 * cap that waiting for each answer puts on the rate (`ackCapEventsPerSecond`).
 *
 * @example
 * ```ts
 * const bound = rateBound({
 *   eventsPerSecond: 9_200,
 *   offeredEventsPerSecond: 0,
 *   connections: 64,
 *   batch: 1,
 *   p50Ms: 6.8,
 *   serverMainCores: 0.82,
 *   generatorMainCores: 0.55,
 *   machineCores: 1.7,
 *   cpus: 2,
 * });
 * // { kind: "server-cpu", ackCapEventsPerSecond: 9412, label: "CPU-bound (server main thread 82 %)" }
 * ```
 */

/** Share of one core from which a main thread counts as saturated. */
export const BUSY = 0.8;
/** Share of the machine's cores from which the machine counts as full. */
export const MACHINE_FULL = 0.9;
/** Share of the offered rate from which a fixed-rate run counts as having reached it. */
export const OFFERED_REACHED = 0.95;

/** What a run measured that decides its bound; NaN where it was not measured. */
export interface RateSample {
  eventsPerSecond: number;
  /** The events/s the generator offered; 0 for "as fast as answered". */
  offeredEventsPerSecond: number;
  connections: number;
  /** Events per request. */
  batch: number;
  /** Median latency of a request, in ms. */
  p50Ms: number;
  /** Cores the server's busiest main thread used (several processes: the busiest). */
  serverMainCores: number;
  /** Cores the load generator's main thread used (NaN: not sampled, as for `wrk`). */
  generatorMainCores: number;
  /** Cores the whole machine was busy, every process (other runs' too: `/proc/stat`). */
  machineCores: number;
  /** The machine's cores. */
  cpus: number;
}

/** The bound a rate hit. */
export interface RateBound {
  kind: "offered" | "server-cpu" | "generator-cpu" | "machine" | "latency";
  /** `connections × batch / p50`: the events/s waiting for each answer allows (NaN: no p50). */
  ackCapEventsPerSecond: number;
  /** One line for a table, with the figure that decided it. */
  label: string;
}

/** The first bound that applies, in the order of `RateBound.kind`. */
export function rateBound(s: RateSample): RateBound {
  const ackCap = s.p50Ms > 0 ? Math.round((s.connections * s.batch * 1000) / s.p50Ms) : NaN;
  const pct = (cores: number) => `${Math.round(cores * 100)} %`;
  const at = (kind: RateBound["kind"], label: string): RateBound => ({
    kind,
    ackCapEventsPerSecond: ackCap,
    label,
  });
  if (
    s.offeredEventsPerSecond > 0 &&
    s.eventsPerSecond >= OFFERED_REACHED * s.offeredEventsPerSecond
  ) {
    return at("offered", `the offered rate (${s.offeredEventsPerSecond} ev/s)`);
  }
  if (s.serverMainCores >= BUSY) {
    return at("server-cpu", `CPU-bound (server main thread ${pct(s.serverMainCores)})`);
  }
  if (s.generatorMainCores >= BUSY) {
    return at("generator-cpu", `generator-bound (its main thread ${pct(s.generatorMainCores)})`);
  }
  if (s.machineCores >= MACHINE_FULL * s.cpus) {
    return at("machine", `machine-bound (${s.machineCores.toFixed(2)} of ${s.cpus} cores busy)`);
  }
  return at(
    "latency",
    Number.isFinite(ackCap)
      ? `latency-bound (${s.connections} conn × ${s.batch} / p50 ${s.p50Ms} ms ≈ ${ackCap} ev/s)`
      : "latency-bound (no latency measured)",
  );
}
