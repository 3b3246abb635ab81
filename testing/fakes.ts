/**
 * The test kit's fakes: stand-ins behind the programs' small interfaces (the ingest's producer
 * and send lanes, the worker's sink and dead-letter sink, a consumed message, tracing, the
 * console's Kafka source), for socket-free tests.
 *
 * @example
 * ```ts
 * const sink = fakeSink();
 * sink.failTransiently = 1; // the next upsert fails as a dropped connection would
 * ```
 */
import type { KafkaSource, ReadRecord } from "../console/sources/kafka_source.ts";
import {
  type LaneRouter,
  ONE_LANE,
  type OutgoingMessage,
  type Producer,
} from "../ingest/produce/port.ts";
import type { DeadLetter, DeadLetterSink } from "../worker/batch/dead_letter.ts";
import type { ConsumedRecord } from "../shared/kafka/consumer_group.ts";
import type { Sink } from "../worker/warehouse/port.ts";
import { EVENT_TIME, type UserRow } from "../worker/warehouse/user_row.ts";
import { isNewerRow } from "../worker/which_event_wins.ts";
import { WriteError } from "../worker/warehouse/write_error.ts";
import { AsyncLocalStorage } from "node:async_hooks";
import type {
  Attributes,
  SpanContext,
  SpanOptions,
  TraceSpan,
  Tracing,
} from "../shared/tracing.ts";

/** The ingest's producer, faked: it records what it is sent; `fail`/`hold` change its answer. */
export class FakeProducer implements Producer {
  /** Every send, in order. */
  readonly sends: OutgoingMessage[][] = [];
  /** When set, sends reject with this error. */
  fail: Error | null = null;
  /** When set, sends wait for this promise before answering. */
  hold: Promise<void> | null = null;
  /**
   * When set, a send with a message that `match`es waits for `until` (and fails when it
   * rejects): a broker that hangs for the partitions it leads, the others answering.
   */
  holdWhere: { match(message: OutgoingMessage): boolean; until: Promise<void> } | null = null;

  /**
   * Records `messages`, then waits for `hold` (and `holdWhere`) and rejects with `fail` when
   * they are set.
   */
  async send(messages: OutgoingMessage[]): Promise<void> {
    this.sends.push(messages);
    if (this.hold) await this.hold;
    const where = this.holdWhere;
    if (where && messages.some((m) => where.match(m))) await where.until;
    if (this.fail) throw this.fail;
  }

  /** Every message sent, flattened. */
  get messages(): OutgoingMessage[] {
    return this.sends.flat();
  }
}

/** The ingest's send lanes, faked: each key's lane is set by the test. */
export interface FakeLanes extends LaneRouter {
  /** Lane by key; a key not here takes `ONE_LANE`. */
  readonly lanes: Map<string, number>;
  /** Every lane the batcher reported stalled, in order. */
  readonly stalledReports: number[];
  /** Moves `key` to `lane`, as a metadata refresh that saw its partition's leader move. */
  move(key: string, lane: number): void;
}

/** Send lanes for keys: `{ a: 1, b: 2 }` puts key `a` in lane 1 and `b` in lane 2. */
export function fakeLanes(assign: Record<string, number>): FakeLanes {
  let version = 0;
  let current: number[] = [];
  const lanes = new Map(Object.entries(assign));
  const recompute = () => {
    current = [...new Set(lanes.values())].sort((a, b) => a - b);
    version++;
  };
  recompute();
  const fake: FakeLanes = {
    lanes,
    stalledReports: [],
    laneOf: (message) => lanes.get(message.key) ?? ONE_LANE,
    current: () => current,
    version: () => version,
    stalled: (lane) => void fake.stalledReports.push(lane),
    move(key, lane) {
      lanes.set(key, lane);
      recompute();
    },
  };
  return fake;
}

/** A sink that keeps rows by id and can be told to fail. */
export interface FakeSink extends Sink {
  rows: Map<string, UserRow>;
  /** Every call's row count, in order. */
  calls: number[];
  /** Rows whose id is here are rejected permanently (SQLSTATE 23514). */
  rejectIds: Set<string>;
  /** While above zero, each call fails transiently and decrements it. */
  failTransiently: number;
}

/** The worker's warehouse sink, faked: it keeps rows by id and fails when told. */
export function fakeSink(): FakeSink {
  const sink: FakeSink = {
    rows: new Map(),
    calls: [],
    rejectIds: new Set(),
    failTransiently: 0,
    upsert(rows) {
      sink.calls.push(rows.length);
      if (sink.failTransiently > 0) {
        sink.failTransiently--;
        return Promise.reject(new WriteError("connection refused", "retry", "ECONNREFUSED"));
      }
      const bad = rows.find((r) => sink.rejectIds.has(r[0]!));
      if (bad) {
        return Promise.reject(
          new WriteError(`row ${bad[0]} violates check constraint`, "isolate", "23514"),
        );
      }
      let stale = 0;
      for (const r of rows) {
        const stored = sink.rows.get(r[0]!);
        // Like the warehouse's upsert: an event no newer than the stored row changes nothing.
        if (
          stored && Number.isFinite(Date.parse(stored[EVENT_TIME] ?? "")) && !isNewerRow(r, stored)
        ) {
          stale++;
        } else {
          // A row of an older version is shorter: the columns it does not know stay.
          sink.rows.set(
            r[0]!,
            stored && r.length < stored.length ? [...r, ...stored.slice(r.length)] : r,
          );
        }
      }
      return Promise.resolve({ stale });
    },
  };
  return sink;
}

/** A dead-letter sink that records what it was sent, or fails when told. */
export interface FakeDeadLetters extends DeadLetterSink {
  sent: DeadLetter[];
  fail: boolean;
}

/** The worker's dead-letter sink, faked: it records what it is sent or fails when told. */
export function fakeDeadLetters(): FakeDeadLetters {
  const dl: FakeDeadLetters = {
    sent: [],
    fail: false,
    send(records) {
      if (dl.fail) return Promise.reject(new Error("broker not available"));
      dl.sent.push(...records);
      return Promise.resolve();
    },
  };
  return dl;
}

const encoder = new TextEncoder();

/** A message the worker consumed at `offset` with `value` (a string is UTF-8 encoded). */
export function message(
  offset: number,
  value: string | Uint8Array | null,
  key: string | null = null,
): ConsumedRecord {
  return {
    topic: "user_created",
    partition: 2,
    offset: BigInt(offset),
    key: key === null ? null : encoder.encode(key),
    value: typeof value === "string" ? encoder.encode(value) : value,
    headers: [["traceparent", encoder.encode("00-abc-def-01")]],
    timestamp: 0,
  };
}

/** One span the fake tracing started. */
export interface FakeSpan extends TraceSpan {
  name: string;
  options: SpanOptions;
  /** The parent: `options.parent`, else the span active when it started (none with `root`). */
  parent: FakeSpan | undefined;
  attributes: Attributes;
  errors: unknown[];
  failed: boolean;
  ended: boolean;
}

/**
 * Tracing, faked: it keeps every span it starts, with its parent (the active span, carried
 * across awaits as Deno's context manager does), attributes, links and errors.
 */
export class FakeTracing implements Tracing {
  /** False makes it a tracing that is off (a test asserts nothing was started). */
  enabled = true;
  /** Every span started, in order. */
  readonly spans: FakeSpan[] = [];
  /** The span a test pretends is active (as `Deno.serve`'s request span is in a handler). */
  readonly #active = new AsyncLocalStorage<FakeSpan>();
  #next = 1;

  activeContext(): SpanContext | undefined {
    return this.#active.getStore()?.context();
  }

  startSpan(name: string, options: SpanOptions = {}): FakeSpan {
    const parent = options.root
      ? undefined
      : (options.parent as FakeSpan | undefined) ?? this.#active.getStore();
    const context: SpanContext = {
      traceId: parent?.context().traceId ?? (this.#next++).toString(16).padStart(32, "0"),
      spanId: (this.#next++).toString(16).padStart(16, "0"),
      traceFlags: 1,
    };
    const span: FakeSpan = {
      name,
      options,
      parent,
      attributes: { ...options.attributes },
      errors: [],
      failed: false,
      ended: false,
      context: () => context,
      setAttributes(attributes) {
        Object.assign(span.attributes, attributes);
      },
      recordError(error, failed = false) {
        span.errors.push(error);
        span.failed ||= failed;
      },
      end() {
        span.ended = true;
      },
    };
    this.spans.push(span);
    return span;
  }

  withSpan<T>(span: TraceSpan, fn: () => T): T {
    return this.#active.run(span as FakeSpan, fn);
  }

  /** The spans named `name`. */
  named(name: string): FakeSpan[] {
    return this.spans.filter((s) => s.name === name);
  }
}

/** A partition of `FakeKafkaSource`: its records in offset order, from offset `start`. */
export interface FakePartition {
  start: bigint;
  records: ReadRecord[];
}

/** The console's Kafka source, faked: topics of partitions in memory, committed offsets. */
export interface FakeKafkaSource extends KafkaSource {
  topics: Map<string, FakePartition[]>;
  /** `group topic` -> partition -> committed offset. */
  commits: Map<string, Map<number, bigint>>;
  /** Every `read` call, as `topic/partition@offset`. */
  reads: string[];
  /** When set, `offsets` and `committed` reject with it. */
  fail: Error | null;
  /** Appends a record to `topic`/`partition` (created empty when missing); returns it. */
  append(
    topic: string,
    partition: number,
    record: Partial<Omit<ReadRecord, "partition" | "offset">>,
  ): ReadRecord;
}

/**
 * The console's `KafkaSource`, faked: `partitions` empty partitions per topic, records
 * appended with `append`, and a partitioner that sums the key's bytes.
 */
export function fakeKafkaSource(topics: readonly string[], partitions = 3): FakeKafkaSource {
  const fake: FakeKafkaSource = {
    topics: new Map(topics.map((t) => [
      t,
      Array.from({ length: partitions }, () => ({ start: 0n, records: [] })),
    ])),
    commits: new Map(),
    reads: [],
    fail: null,
    append(topic, partition, record) {
      const p = fake.topics.get(topic)![partition]!;
      const offset = p.start + BigInt(p.records.length);
      const r: ReadRecord = {
        partition,
        offset,
        timestamp: record.timestamp ?? 0,
        key: record.key ?? null,
        value: record.value ?? null,
        headers: record.headers ?? [],
      };
      p.records.push(r);
      return r;
    },
    offsets(topic) {
      if (fake.fail) return Promise.reject(fake.fail);
      const ps = fake.topics.get(topic);
      if (!ps) return Promise.reject(new Error(`Topic ${topic} does not exist`));
      return Promise.resolve({
        start: ps.map((p) => p.start),
        end: ps.map((p) => p.start + BigInt(p.records.length)),
      });
    },
    committed(groupId, topic) {
      if (fake.fail) return Promise.reject(fake.fail);
      return Promise.resolve(new Map(fake.commits.get(`${groupId} ${topic}`) ?? []));
    },
    read(topic, partition, offset, limits = {}) {
      fake.reads.push(`${topic}/${partition}@${offset}`);
      const p = fake.topics.get(topic)?.[partition];
      if (!p) return Promise.reject(new Error(`Topic ${topic} has no partition ${partition}`));
      const from = Number(offset < p.start ? 0n : offset - p.start);
      return Promise.resolve(p.records.slice(from, from + (limits.maxRecords ?? 500)));
    },
    partitionOf(key, count) {
      let sum = 0;
      for (const b of new TextEncoder().encode(key)) sum += b;
      return sum % count;
    },
    close: () => Promise.resolve(),
  };
  return fake;
}
