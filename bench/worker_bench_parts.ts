/**
 * Pieces of the worker benchmark (`bench/worker_bench.ts`): pre-filling a topic with the test
 * kit's seeded events (`seededEvent`), the ceilings (a plain consume through our consumer
 * group, PostgreSQL COPY, the worker's sink alone doing the drain's writes), the staging
 * comparison, rows counted in the table as a user would, and small statistics helpers.
 */
import type { Sql } from "postgres";
import { encodeEvent } from "../shared/event.ts";
import { createConsumerGroup } from "../shared/kafka/consumer_group.ts";
import { createKafkaProducer, type ProducerMessage } from "../shared/kafka/producer.ts";
import type { KafkaConnection } from "../shared/kafka/settings.ts";
import { silentLogger } from "../shared/logger.ts";
import { seededEvent, seededEventV2 } from "../testing/users.ts";
import { cpuSeconds as processCpuSeconds } from "./ingest_sampler.ts";
import {
  copyText,
  createPostgresDialect,
  type Staging,
} from "../worker/warehouse/postgres_dialect.ts";
import { columnsOfWidth } from "../worker/warehouse/table_columns.ts";
import { toUserRow } from "../worker/warehouse/user_row.ts";
import { createWarehouseSink } from "../worker/warehouse/sink.ts";
import { upsertIsolating } from "../worker/batch/upsert_isolating.ts";
import { createReplaceablePool } from "../worker/warehouse/replaceable_pool.ts";

/**
 * Produces events `[0, n)` to `topic` (acks=all), several sends in flight; returns msgs/s.
 * `version` 2 gives every user `nat` and `cell` (event version 2).
 */
export async function prefill(
  connection: KafkaConnection,
  topic: string,
  n: number,
  seed: string,
  version: 1 | 2 = 1,
): Promise<number> {
  const event = version === 2 ? seededEventV2 : seededEvent;
  const producer = createKafkaProducer(connection, {
    logger: silentLogger,
    clientIdSuffix: "-prefill",
  });
  await producer.connect([topic]);
  const started = performance.now();
  try {
    const perSend = 2_000;
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < n; i += perSend) {
      const messages: ProducerMessage[] = [];
      for (let j = i; j < Math.min(n, i + perSend); j++) {
        const e = event(j, seed);
        messages.push({ key: e.user.id, value: encodeEvent(e) });
      }
      const p = producer.send(topic, messages).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await producer.close();
  }
  return n / ((performance.now() - started) / 1000);
}

/**
 * Consumes `topic` from the start with no processing (our consumer group, nothing committed)
 * until `n` records arrived; returns records/s from the first record on.
 */
export async function consumeCeiling(
  connection: KafkaConnection,
  topic: string,
  n: number,
  groupId: string,
  maxBytes: number,
): Promise<{ rate: number; seconds: number }> {
  const group = createConsumerGroup(connection, { groupId, topics: [topic], maxBytes });
  let count = 0;
  let first = 0;
  const done = Promise.withResolvers<void>();
  try {
    await group.start({
      record() {
        if (first === 0) first = performance.now();
        if (++count === n) done.resolve();
      },
      error: (err) => done.reject(err),
    });
    await withTimeout(done.promise, 600_000, "plain consume");
    const seconds = (performance.now() - first) / 1000;
    return { rate: n / seconds, seconds };
  } finally {
    await group.close();
  }
}

/** COPYs rows `[0, n)` into a fresh `schema.users` in one stream; returns rows/s. */
export async function copyCeiling(
  sql: Sql,
  schema: string,
  n: number,
  seed: string,
): Promise<{ rate: number; seconds: number }> {
  for (const ddl of createPostgresDialect({ schema, table: "users" }).createTable()) {
    await sql.unsafe(ddl);
  }
  // The columns of the rows written (version-1 events): naming every column of the latest
  // version made PostgreSQL refuse the COPY, and the refusal never reached the writable
  // stream, so the step hung.
  const width = toUserRow(seededEvent(0, seed)).length;
  const columns = [...columnsOfWidth(width).map((c) => c.name), "date_added", "updated_at"]
    .join(", ");
  const started = performance.now();
  const writable = await sql.unsafe(`COPY ${schema}.users (${columns}) FROM STDIN`).writable();
  const now = new Date().toISOString();
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      writable.once("error", reject);
      writable.once("finish", () => resolve());
      let i = 0;
      const write = () => {
        while (i < n) {
          const rows = [];
          for (const end = Math.min(n, i + 5_000); i < end; i++) {
            rows.push([...toUserRow(seededEvent(i, seed)), now, now]);
          }
          if (!writable.write(copyText(rows))) {
            writable.once("drain", write);
            return;
          }
        }
        writable.end();
      };
      write();
    }),
    600_000,
    "the COPY ceiling",
  );
  const seconds = (performance.now() - started) / 1000;
  return { rate: n / seconds, seconds };
}

/** Upserts rows `[0, n)` through the worker's sink in batches; returns rows/s. */
export async function sinkRate(
  sql: Sql,
  schema: string,
  staging: Staging,
  n: number,
  batch: number,
  seed: string,
): Promise<number> {
  const dialect = createPostgresDialect({ schema, table: "users" }, { staging });
  const sink = createWarehouseSink(sql, dialect);
  await sink.ensureTable();
  const started = performance.now();
  for (let i = 0; i < n; i += batch) {
    const rows = [];
    for (let j = i; j < Math.min(n, i + batch); j++) rows.push(toUserRow(seededEvent(j, seed)));
    await sink.upsert(rows);
  }
  return n / ((performance.now() - started) / 1000);
}

/** One reading of a table's row count: `rows` visible to a query sent at `at` (ms). */
export interface RowCount {
  at: number;
  rows: number;
}

/** `select count(*)` of a table, every `intervalMs`, on a connection of its own. */
export interface RowCountSampler {
  readonly samples: readonly RowCount[];
  /** The last count read (0 before the first). */
  latest(): number;
  /** How long each count took, in ms: what the sampling costs PostgreSQL. */
  readonly countMs: readonly number[];
  stop(): Promise<void>;
}

/**
 * Counts the rows of `table` as a user would (`select count(*)`), every `intervalMs` until
 * `stop()` or `maxMs`. One backend, no parallel workers (`max_parallel_workers_per_gather = 0`),
 * so that the sampling takes at most one core from the run it watches. A count's time is when
 * its query was sent: PostgreSQL takes the statement's snapshot as it starts.
 */
export async function sampleRowCount(
  sql: Sql,
  table: string,
  intervalMs: number,
  maxMs = 900_000,
): Promise<RowCountSampler> {
  const conn = await sql.reserve();
  await conn.unsafe("set max_parallel_workers_per_gather = 0");
  const samples: RowCount[] = [];
  const countMs: number[] = [];
  let stopped = false;
  let released = false;
  const deadline = performance.now() + maxMs;
  const loop = (async () => {
    while (!stopped && performance.now() < deadline) {
      const at = performance.now();
      const [row] = await conn.unsafe(`select count(*)::int as n from ${table}`);
      countMs.push(performance.now() - at);
      samples.push({ at, rows: Number(row!.n) });
      const wait = at + intervalMs - performance.now();
      if (wait > 0 && !stopped) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    samples,
    countMs,
    latest: () => samples.at(-1)?.rows ?? 0,
    async stop() {
      stopped = true;
      try {
        await loop;
      } finally {
        if (!released) conn.release();
        released = true;
      }
    },
  };
}

/**
 * When the table first held `rows` rows, interpolated linearly between the last count below and
 * the first count at or above it (undefined: never counted that many).
 */
export function crossing(samples: readonly RowCount[], rows: number): number | undefined {
  const i = samples.findIndex((s) => s.rows >= rows);
  if (i < 0) return undefined;
  const after = samples[i]!;
  const before = samples[i - 1];
  if (!before || after.rows === before.rows) return after.at;
  return before.at + ((rows - before.rows) / (after.rows - before.rows)) * (after.at - before.at);
}

/** Rows/s between the table holding 5 % and 95 % of `n` rows (NaN: it never held both). */
export function sustainedRate(samples: readonly RowCount[], n: number): number {
  const [from, to] = [crossing(samples, n * 0.05), crossing(samples, n * 0.95)];
  return from === undefined || to === undefined ? NaN : (n * 0.9) / ((to - from) / 1000);
}

/** What the sink ceiling measured. */
export interface SinkCeiling {
  /** Rows/s from 5 % to 95 % of `n` rows counted in the table (the drain's measure). */
  sustained: number;
  /** The same from the bench's own clock as each transaction returned (a cross-check). */
  ownSustained: number;
  /** `n` / the time until the last transaction returned. */
  total: number;
  countMs: readonly number[];
}

/**
 * The worker's writes without the worker: rows `[0, n)` upserted through the worker's sink and
 * statement path (`upsertIsolating` → `createWarehouseSink` → the postgres dialect with the
 * worker's default staging, one connection, the worker's write deadline), `flushRows` rows per
 * transaction, into a new table that grows to `n` rows as the drain's does. The next batch's
 * rows are made while a transaction runs, as the worker decodes ahead. Rows are counted in the
 * table with the same sampler as the drain.
 */
export async function sinkCeiling(
  connect: () => Sql,
  schema: string,
  n: number,
  seed: string,
  opts: { flushRows: number; writeTimeoutMs: number; sampleMs: number },
): Promise<SinkCeiling> {
  // A pool the sink can replace, as the worker's: its write deadline needs one.
  const sql = createReplaceablePool(connect);
  const observer = connect();
  try {
    const dialect = createPostgresDialect({ schema, table: "users" });
    const sink = createWarehouseSink(sql, dialect, { writeTimeoutMs: opts.writeTimeoutMs });
    await sink.ensureTable();
    const rowsOf = (from: number) => {
      const rows = [];
      for (let j = from; j < Math.min(n, from + opts.flushRows); j++) {
        rows.push(toUserRow(seededEvent(j, seed)));
      }
      return rows;
    };
    const sampler = await sampleRowCount(observer, `${schema}.users`, opts.sampleMs);
    const own: RowCount[] = [];
    const started = performance.now();
    try {
      let next = rowsOf(0);
      for (let i = 0; i < n; i += opts.flushRows) {
        const writing = upsertIsolating(next, (r) => r, sink);
        next = rowsOf(i + opts.flushRows);
        const r = await writing;
        if (r.rejected.length > 0) throw new Error(`${r.rejected.length} rows rejected`);
        own.push({ at: performance.now(), rows: Math.min(n, i + opts.flushRows) });
      }
      const seconds = (performance.now() - started) / 1000;
      // Bounded: the table holds all n rows once the last transaction returned.
      const end = performance.now() + 60_000;
      while (sampler.latest() < n && performance.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await sampler.stop();
      return {
        sustained: sustainedRate(sampler.samples, n),
        ownSustained: sustainedRate(own, n),
        total: n / seconds,
        countMs: sampler.countMs,
      };
    } finally {
      await sampler.stop();
    }
  } finally {
    await sql.end();
    await observer.end();
  }
}

/** The q-quantile (0..1) of sorted numbers. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Resident set size of `pid` in KiB (via `ps`, since Deno cannot read /proc without -A). */
export async function rssKiB(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  return Number(new TextDecoder().decode(out.stdout).trim()) || 0;
}

/** Rejects after `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * CPU seconds used so far by `pids` and, with `children`, by their direct children (from
 * `/proc`, in clock ticks: `ps -o times=` counts whole seconds only).
 */
export async function cpuSeconds(pids: number[], children = false): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const all = [pid];
    if (children) {
      const out = await new Deno.Command("ps", { args: ["-o", "pid=", "--ppid", String(pid)] })
        .output();
      all.push(
        ...new TextDecoder().decode(out.stdout).split("\n").map(Number).filter((n) => n > 0),
      );
    }
    for (const p of all) {
      const seconds = await processCpuSeconds(p).catch(() => Number.NaN);
      if (Number.isFinite(seconds)) total += seconds; // a backend may end in between
    }
  }
  return total;
}
