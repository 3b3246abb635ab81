/**
 * Takes one `Snapshot`: probes every configured instance, reads the topic's offsets and the
 * workers' committed offsets, and turns counters into per-second rates against the previous
 * sample. Each instance keeps its own previous counters, so a restarted process (its counters
 * back at 0) counts from there instead of going negative.
 */
import type { InstanceKind, InstanceProbe } from "../sources/instance_probe.ts";
import type { KafkaSource, TopicOffsets } from "../sources/kafka_source.ts";
import { bucketsMinus, histogramQuantile } from "./histogram_quantile.ts";
import { counterDelta, type InstanceTotals, instanceTotals } from "./instance_totals.ts";
import { createLagReader, type PartitionLag } from "./partition_lag.ts";
import type { Snapshot } from "./snapshot.ts";

/** What the sampler reads. */
export interface SamplerDeps {
  probe: InstanceProbe;
  kafka: KafkaSource;
  instances: readonly { kind: InstanceKind; url: string }[];
  topic: string;
  groupId: string;
  /** Wall clock in ms. */
  now: () => number;
  /** The window of the flush quantiles, in seconds (default 60). */
  flushWindowSeconds?: number;
}

/** Takes snapshots; each call compares with the previous one. */
export interface Sampler {
  sample(): Promise<Snapshot>;
}

const COUNTERS = ["accepted", "rows", "superseded", "deadLettered", "retries", "errors"] as const;

/** Creates a sampler. */
export function createSampler(deps: SamplerDeps): Sampler {
  const lagReader = createLagReader(deps.kafka, deps.topic);
  const windowSeconds = deps.flushWindowSeconds ?? 60;
  const previous = new Map<string, InstanceTotals>();
  let previousEnd: bigint | undefined;
  let previousTime: number | undefined;
  // Flush buckets summed over every instance's growth since the start, one entry per sample.
  const flushHistory: { time: number; buckets: Map<number, number> }[] = [];
  let flushSum = new Map<number, number>();
  const totals = { retries: 0, errors: 0 };

  return {
    async sample() {
      const states = await Promise.all(deps.instances.map((i) => deps.probe(i.kind, i.url)));
      // The sample's time: after the probes, and after the Kafka reads when they succeed.
      let now = deps.now();
      const grown = { accepted: 0, rows: 0, superseded: 0, deadLettered: 0, retries: 0, errors: 0 };
      const flushGrown = new Map<number, number>();
      states.forEach((state, i) => {
        if (!state.up) return;
        const key = `${deps.instances[i]!.kind} ${deps.instances[i]!.url}`;
        const current = instanceTotals(state.samples);
        const before = previous.get(key);
        for (const c of COUNTERS) grown[c] += counterDelta(before?.[c], current[c]);
        for (const [le, count] of current.flushBuckets) {
          const d = counterDelta(before?.flushBuckets.get(le), count);
          flushGrown.set(le, (flushGrown.get(le) ?? 0) + d);
        }
        previous.set(key, current);
      });
      flushSum = new Map(flushSum);
      for (const [le, d] of flushGrown) flushSum.set(le, (flushSum.get(le) ?? 0) + d);
      flushHistory.push({ time: now, buckets: flushSum });
      while (flushHistory.length > 1 && flushHistory[0]!.time < now - windowSeconds * 1000) {
        flushHistory.shift();
      }
      const windowed = bucketsMinus(flushSum, flushHistory[0]!.buckets);
      totals.retries += grown.retries;
      totals.errors += grown.errors;

      let lag: PartitionLag[] = [];
      let produced = 0;
      let kafka: Snapshot["kafka"] = { ok: true };
      try {
        const offsets: TopicOffsets = await deps.kafka.offsets(deps.topic);
        const committed = await deps.kafka.committed(deps.groupId, deps.topic);
        const read = await lagReader.lag(offsets, committed, deps.now);
        lag = read.lag;
        now = read.time;
        const end = offsets.end.reduce((a, b) => a + b, 0n);
        if (previousEnd !== undefined && end >= previousEnd) produced = Number(end - previousEnd);
        previousEnd = end;
      } catch (err) {
        kafka = { ok: false, problem: cut((err as Error).message ?? String(err)) };
      }
      const seconds = previousTime === undefined ? 0 : Math.max(0.001, (now - previousTime) / 1000);
      const rate = (n: number) => (seconds === 0 ? 0 : n / seconds);
      previousTime = now;
      return {
        time: now,
        rates: {
          accepted: rate(grown.accepted),
          produced: rate(produced),
          rows: rate(grown.rows),
          superseded: rate(grown.superseded),
          deadLettered: rate(grown.deadLettered),
        },
        lag,
        flush: {
          p50: histogramQuantile(0.5, windowed),
          p99: histogramQuantile(0.99, windowed),
          windowSeconds,
        },
        warehouse: {
          retries: rate(grown.retries),
          errors: rate(grown.errors),
          retriesTotal: totals.retries,
          errorsTotal: totals.errors,
        },
        instances: states.map((s) => ({
          kind: s.kind,
          url: s.url,
          up: s.up,
          ready: s.ready,
          ...(s.reason === undefined ? {} : { reason: s.reason }),
        })),
        kafka,
      };
    },
  };
}

function cut(s: string): string {
  return s.length <= 300 ? s : `${s.slice(0, 299)}…`;
}
