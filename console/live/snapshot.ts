/**
 * What the live view shows at one moment: a `Snapshot`, and the `Point` of it that the
 * 15-minute history keeps for the charts.
 */
import type { InstanceKind } from "../sources/instance_probe.ts";
import type { PartitionLag } from "./partition_lag.ts";

/** Per-second rates of each stage, over the last sampling interval. */
export interface StageRates {
  /** Events the ingests had acknowledged by Kafka. */
  accepted: number;
  /** Records appended to the topic (by the ingests, re-drives or anyone else). */
  produced: number;
  /** Rows the workers wrote. */
  rows: number;
  /** Records the workers dropped for a newer event of the same user. */
  superseded: number;
  /** Records the workers sent to the dead-letter topic. */
  deadLettered: number;
}

/** One instance, as the page shows it. */
export interface InstanceView {
  kind: InstanceKind;
  url: string;
  up: boolean;
  ready: boolean;
  reason?: string;
}

/** The live view at one moment. */
export interface Snapshot {
  /** When it was taken, ms since the epoch. */
  time: number;
  rates: StageRates;
  /** Per partition of the topic, for the workers' group. */
  lag: PartitionLag[];
  /** Flush duration quantiles in seconds over the last `windowSeconds` (null: no flush). */
  flush: { p50: number | null; p99: number | null; windowSeconds: number };
  /** Warehouse retries and other errors, per second over the last interval, and in total. */
  warehouse: { retries: number; errors: number; retriesTotal: number; errorsTotal: number };
  instances: InstanceView[];
  /** Kafka answered (offsets and the group); otherwise why not. */
  kafka: { ok: boolean; problem?: string };
}

/** One point of the history: the rates and the lag totals. */
export interface Point extends StageRates {
  time: number;
  lagRecords: number;
  /** The largest lag in seconds among the partitions. */
  lagSeconds: number;
}

/** The history point of `s`. */
export function toPoint(s: Snapshot): Point {
  return {
    time: s.time,
    ...s.rates,
    lagRecords: s.lag.reduce((n, p) => n + p.records, 0),
    lagSeconds: s.lag.reduce((n, p) => Math.max(n, p.seconds), 0),
  };
}
