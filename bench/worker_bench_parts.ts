/**
 * Pieces of the worker benchmark (`bench/worker_bench.ts`): pre-filling a topic with the test
 * kit's seeded events (`seededEvent`), the two ceilings (a plain consume through our consumer group, PostgreSQL COPY), sink
 * staging comparison, and small statistics helpers.
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
