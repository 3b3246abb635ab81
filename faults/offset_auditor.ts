/**
 * The committed-offsets check, run while a scenario goes on.
 *
 * An audit consumer (its own group, from the beginning) records, for every partition, which
 * event sits at which offset. Every `sampleMs` the auditor fetches the worker group's committed
 * offsets FIRST, and only THEN reads the warehouse: a worker commits offset `c` only after the
 * records below `c` are written (or dead-lettered), so each record below a committed offset that
 * the first read saw must already be visible to the second read. For every record in
 * `[checked, c)` not yet verified, the row of its user id must exist and hold that event or a
 * newer one (rows only move forward, so a verified record stays verified), or its user id must
 * be in the dead-letter topic. A record that fails is a violation: the group's offset moved
 * ahead of what the warehouse holds. Records the audit consumer has not read yet wait for the
 * next sample, so every record below the last committed offset is verified exactly once.
 *
 * A committed offset must also never go back (a member that lost its partitions committing
 * what it wrote before): each sample compares with the highest offset seen per partition, and a
 * lower one is recorded in `movedBack`.
 */
import type postgres from "postgres";
import type { KafkaAdmin } from "../shared/kafka/admin.ts";
import {
  type ConsumedRecord,
  type ConsumerGroup,
  createConsumerGroup,
} from "../shared/kafka/consumer_group.ts";
import type { KafkaConnection } from "../shared/kafka/settings.ts";
import { DLQ_HEADERS } from "../shared/dead_letter_headers.ts";
import { headerText } from "../shared/record_headers.ts";
import { uniqueName } from "../stack/harness.ts";
import { versionOf } from "./ledger.ts";

/** How many times a failed audit consumer is replaced before the auditor gives up reading. */
const MAX_REJOINS = 30;

interface AuditRecord {
  id: string;
  eventId: string;
  acceptedAt: number;
}

/** One violation: a record below a committed offset that the warehouse did not hold. */
export interface OffsetViolation {
  partition: number;
  offset: number;
  committed: number;
  id: string;
}

/** A committed offset lower than one committed before. */
export interface OffsetMovedBack {
  partition: number;
  from: number;
  to: number;
}

/** A running auditor. */
export interface OffsetAuditor {
  /** Records verified below committed offsets so far. */
  verified(): number;
  /** Samples taken. */
  samples(): number;
  violations: OffsetViolation[];
  /** Committed offsets that went back. */
  movedBack: OffsetMovedBack[];
  /** Group lag (topic end minus committed, summed) at the last sample. */
  lag(): number;
  /** Lag per partition (index = partition) at the last sample. */
  lagByPartition(): number[];
  /** Records in the topic at the last sample (sum of the high watermarks). */
  ends(): number;
  /** Lag at every sample, with the time (performance.now). */
  lagHistory: { at: number; lag: number }[];
  /** User ids seen in the dead-letter topic, and how many dead letters were read. */
  deadIds: Set<string>;
  /** `id:version` of every record read from the topic. */
  seen: Set<string>;
  deadRead(): number;
  /** Source records (`topic:partition:offset`) dead-lettered more than once, with the count. */
  deadTwice(): { source: string; times: number }[];
  /** Takes one sample now (also done every `sampleMs`). */
  sample(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the audit consumer and the sampling loop. The audit group never commits: when its
 * stream fails (a broker it fetched from died), a new member reads both topics again from the
 * start, and every structure here is keyed by position, so a record read twice counts once.
 */
export async function startOffsetAuditor(opts: {
  connection: KafkaConnection;
  admin: KafkaAdmin;
  sql: postgres.Sql;
  topic: string;
  dlq: string;
  groupId: string;
  schema: string;
  sampleMs: number;
}): Promise<OffsetAuditor> {
  const byPartition = new Map<number, AuditRecord[]>();
  const checked = new Map<number, number>();
  const deadIds = new Set<string>();
  /** `partition:offset` of every dead letter read (a re-read must not count twice). */
  const deadAt = new Set<string>();
  /** Dead letters per source record, by dead-letter position (a re-read counts once). */
  const deadSources = new Map<string, Set<string>>();
  const seen = new Set<string>();
  const violations: OffsetViolation[] = [];
  const movedBack: OffsetMovedBack[] = [];
  const highest = new Map<number, number>();
  let verified = 0;
  let samples = 0;
  let lag = 0;
  let lagBy: number[] = [];
  let endTotal = 0;
  let stopped = false;
  const lagHistory: { at: number; lag: number }[] = [];
  const decoder = new TextDecoder();

  const read = (m: ConsumedRecord) => {
    let parsed: {
      event_id?: string;
      accepted_at?: string;
      user?: { id?: string; last_name?: string };
    } = {};
    try {
      parsed = JSON.parse(m.value ? decoder.decode(m.value) : "{}");
    } catch { /* not an event: keep the key */ }
    const id = parsed.user?.id ?? (m.key ? decoder.decode(m.key) : "");
    if (m.topic === opts.dlq) {
      deadIds.add(id);
      const at = `${m.partition}:${m.offset}`;
      deadAt.add(at);
      const h = (name: string) => headerText(m.headers, name) ?? "?";
      const source = `${h(DLQ_HEADERS.topic)}:${h(DLQ_HEADERS.partition)}:${h(DLQ_HEADERS.offset)}`;
      const positions = deadSources.get(source) ?? new Set<string>();
      positions.add(at);
      deadSources.set(source, positions);
      return;
    }
    seen.add(`${id}:${versionOf(parsed.user?.last_name ?? "")}`);
    const list = byPartition.get(m.partition) ?? [];
    // The list is indexed by offset: offsets of a plain topic are dense from 0.
    list[Number(m.offset)] = {
      id,
      eventId: parsed.event_id ?? "",
      acceptedAt: Date.parse(parsed.accepted_at ?? "") || 0,
    };
    byPartition.set(m.partition, list);
  };

  let consumer: ConsumerGroup | undefined;
  let rejoin: ReturnType<typeof setTimeout> | undefined;
  /** New members after a failure (or a failed join), at most MAX_REJOINS, one a second. */
  let rejoins = 0;
  const joined = Promise.withResolvers<void>();
  const join = async (): Promise<void> => {
    const group = createConsumerGroup(opts.connection, {
      groupId: uniqueName("audit"),
      topics: [opts.topic, opts.dlq],
      sessionTimeoutMs: 10_000,
      maxBytes: 1024 * 1024,
      // A fresh cluster may not have a group coordinator yet.
      retries: 10,
    });
    consumer = group;
    const replace = (err: Error) => {
      if (consumer !== group) return;
      consumer = undefined;
      group.close().catch(() => {});
      if (stopped) return;
      if (rejoins >= MAX_REJOINS) {
        joined.reject(err);
        return;
      }
      rejoins++;
      rejoin = setTimeout(() => void join(), 1_000);
    };
    try {
      await group.start({ record: read, error: replace });
      joined.resolve();
    } catch (err) {
      replace(err as Error);
    }
  };
  void join();
  await joined.promise.catch((err) => {
    stopped = true;
    clearTimeout(rejoin);
    throw err;
  });

  let running: Promise<void> | null = null;
  const sampleOnce = async () => {
    const committed = await opts.admin.committedOffsets(opts.groupId, opts.topic);
    const ends = await opts.admin.endOffsets(opts.topic);
    endTotal = ends.reduce((n, e) => n + Number(e), 0);
    lagBy = ends.map((end, partition) => Number(end) - Number(committed.get(partition) ?? 0n));
    lag = lagBy.reduce((n, l) => n + l, 0);
    lagHistory.push({ at: performance.now(), lag });
    // Records to verify: below the committed offset, not yet verified, already read by the audit.
    const todo: { partition: number; offset: number; committed: number; rec: AuditRecord }[] = [];
    const next = new Map<number, number>();
    for (const [partition, offset] of committed) {
      const c = Number(offset);
      const before = highest.get(partition) ?? -1;
      if (c < before) movedBack.push({ partition, from: before, to: c });
      else highest.set(partition, c);
      if (c <= 0) continue;
      const list = byPartition.get(partition) ?? [];
      let from = checked.get(partition) ?? 0;
      for (; from < c && list[from] !== undefined; from++) {
        todo.push({ partition, offset: from, committed: c, rec: list[from]! });
      }
      next.set(partition, from);
    }
    samples++;
    if (todo.length === 0) return;
    const ids = [...new Set(todo.map((t) => t.rec.id))];
    const rows = new Map<string, { eventId: string; eventTime: number }>();
    for (let i = 0; i < ids.length; i += 5_000) {
      const found = await opts.sql.unsafe(
        `select id, event_id, event_time from ${opts.schema}.users where id = any($1)`,
        [ids.slice(i, i + 5_000)],
      );
      for (const r of found) {
        rows.set(r.id, { eventId: r.event_id, eventTime: new Date(r.event_time).getTime() });
      }
    }
    // Marked as checked only once the warehouse answered (it may be the thing that is down).
    for (const [p, from] of next) checked.set(p, from);
    for (const t of todo) {
      const row = rows.get(t.rec.id);
      const ok = (row && (row.eventId === t.rec.eventId || row.eventTime >= t.rec.acceptedAt)) ||
        deadIds.has(t.rec.id);
      if (ok) verified++;
      else {
        violations.push({
          partition: t.partition,
          offset: t.offset,
          committed: t.committed,
          id: t.rec.id,
        });
      }
    }
  };
  const sample = () => (running ??= sampleOnce().finally(() => running = null));

  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    if (stopped) return;
    sample().catch(() => {/* the cluster or database may be down: next sample */}).finally(() => {
      if (!stopped) timer = setTimeout(tick, opts.sampleMs);
    });
  };
  timer = setTimeout(tick, opts.sampleMs);

  return {
    verified: () => verified,
    samples: () => samples,
    violations,
    movedBack,
    lag: () => lag,
    lagByPartition: () => [...lagBy],
    ends: () => endTotal,
    lagHistory,
    deadIds,
    seen,
    deadRead: () => deadAt.size,
    deadTwice: () =>
      [...deadSources].filter(([, at]) => at.size > 1).map(([source, at]) => ({
        source,
        times: at.size,
      })),
    sample,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(rejoin);
      await running?.catch(() => {});
      await consumer?.close().catch(() => {});
    },
  };
}
