/**
 * The warehouse sink: runs a dialect's steps through postgres.js, in one transaction or, where
 * the dialect asks with `commit` steps, in several.
 *
 * PostgreSQL and Redshift speak the same wire protocol, so one client serves both; what
 * differs is the SQL, which comes from the dialect. For `load` steps (Redshift's COPY from S3)
 * the sink uploads the objects before the first transaction and removes them when the write
 * has ended, whether it committed or not; a crash in between leaves them to the bucket's
 * lifecycle rule.
 *
 * With tracing on, each statement is a span (`MERGE public.users`, `COPY pg_temp.users_stage`,
 * … after OpenTelemetry's database conventions, without the bound values), and so is the S3
 * upload; with it off, the statements run exactly as before.
 *
 * With `writeTimeoutMs`, a write (an upsert, or the table's creation) that has not ended by
 * then fails as a `WriteError` with action `retry` (`write_deadline.ts`), and the pool it used is
 * replaced (`replaceable_pool.ts`): the write is abandoned with its connection, and the retry
 * opens a new one instead of queueing behind the hung one. Each write takes the pool in use
 * when it starts and uses only that one, so an abandoned write never runs a statement on the
 * new pool.
 */
import type { Sql, TransactionSql } from "postgres";
import type { ReplaceablePool } from "./replaceable_pool.ts";
import { withWriteDeadline } from "./write_deadline.ts";
import type { Dialect, SqlStep } from "./dialect.ts";
import type { ObjectStaging } from "./s3_staging.ts";
import type { Upserted, WarehouseSink } from "./port.ts";
import type { UserRow } from "./user_row.ts";
import { isCreateRace, toWriteError } from "./write_error.ts";
import { type Attributes, inSpan, noTracing, type Tracing } from "../../shared/tracing.ts";
import { statementSummary } from "./statement_summary.ts";
import { evolveTable, TableSchemaError } from "./evolve_table.ts";

/** What the sink needs besides the connection and the dialect. */
export interface WarehouseSinkDeps {
  now?: () => Date;
  /** Uploads and removes the objects of `load` steps (required when the dialect emits them). */
  staging?: ObjectStaging;
  /** Spans for the statements (default: none). */
  tracing?: Tracing;
  /**
   * Abandon a write that has not ended after this many ms, with its connection (default: no
   * deadline). Needs a `ReplaceablePool`.
   */
  writeTimeoutMs?: number;
  /** Told the columns `ensureTable` (or a write that missed them) added to the table. */
  onColumnsAdded?: (columns: string[]) => void;
}

/** Runs one statement (`run`) in a span named after `text`. */
type TraceStatement = <T>(
  text: string,
  attributes: Attributes,
  run: () => Promise<T>,
) => Promise<T>;

/** The statement spans of `tracing` for `dialect`, or undefined when tracing is off. */
function statementTracer(
  tracing: Tracing | undefined,
  dialect: Dialect,
): TraceStatement | undefined {
  if (!tracing?.enabled) return undefined;
  const system = dialect.name === "redshift" ? "aws.redshift" : "postgresql";
  return (text, attributes, run) => {
    const { operation, collection, summary } = statementSummary(text);
    return inSpan(tracing, summary, {
      kind: "client",
      attributes: {
        "db.system.name": system,
        "db.operation.name": operation,
        "db.query.summary": summary,
        ...(collection ? { "db.collection.name": collection } : {}),
        ...attributes,
      },
    }, run);
  };
}

/**
 * Creates a sink on a postgres.js pool, or on a pool it can replace (needed for a deadline).
 * @throws {TypeError} when `writeTimeoutMs` is given with a plain pool.
 */
export function createWarehouseSink(
  pool: Sql | ReplaceablePool,
  dialect: Dialect,
  deps: WarehouseSinkDeps = {},
): WarehouseSink {
  const now = deps.now ?? (() => new Date());
  const trace = statementTracer(deps.tracing, dialect);
  if (typeof pool === "function" && deps.writeTimeoutMs !== undefined) {
    throw new TypeError("a write deadline needs a ReplaceablePool, to drop a hung connection");
  }
  const pools: ReplaceablePool = typeof pool === "function"
    ? { current: () => pool, discard: () => {}, end: (o) => pool.end(o) }
    : pool;
  /** Runs `write` on the pool in use, within the deadline when there is one. */
  const bounded = <T>(write: (sql: Sql) => Promise<T>): Promise<T> => {
    const sql = pools.current();
    const ms = deps.writeTimeoutMs;
    return ms === undefined
      ? write(sql)
      : withWriteDeadline(ms, () => write(sql), () => pools.discard(sql));
  };
  /** One upsert through `sql`. */
  const upsert = async (sql: Sql, rows: readonly UserRow[]): Promise<Upserted> => {
    const steps = dialect.upsert(rows, now());
    const uploaded: string[] = [];
    try {
      for (const step of steps) {
        if (step.kind !== "load") continue;
        if (!deps.staging) {
          throw new Error(`${dialect.name} dialect staged through S3 without S3`);
        }
        const staging = deps.staging;
        uploaded.push(
          ...await inSpan(deps.tracing ?? noTracing, "upload staging objects", {
            attributes: { "user_pipeline.rows": step.objects.rows.length },
          }, () => staging.upload(step.objects)),
        );
      }
      let counted: Counted;
      try {
        counted = await runTransactions(sql, steps, trace);
      } catch (err) {
        // undefined_column: the table lost a column since the start (re-created or altered by
        // hand). Add what is missing, outside the write, and write again once.
        if ((err as { code?: string }).code !== "42703") throw err;
        await evolve(sql);
        counted = await runTransactions(sql, steps, trace);
      }
      return {
        stale: counted.stale ??
          (counted.applied === undefined ? 0 : Math.max(0, rows.length - counted.applied)),
      };
    } catch (err) {
      // A table the worker will not fix is no outage: the failure table stops the process.
      if (err instanceof TableSchemaError) throw err;
      throw toWriteError(err);
    } finally {
      if (uploaded.length > 0) await deps.staging!.remove(uploaded);
    }
  };
  /** Adds the columns the table lacks. @throws {TableSchemaError} */
  const evolve = async (sql: Sql) => {
    const { added } = await evolveTable(sql, dialect);
    if (added.length > 0) deps.onColumnsAdded?.(added);
  };
  return {
    ensureTable: () =>
      bounded(async (sql) => {
        await ensureTable(sql, dialect);
        try {
          await evolve(sql);
        } catch (err) {
          if (err instanceof TableSchemaError) throw err;
          throw toWriteError(err);
        }
      }),
    async upsert(rows): Promise<Upserted> {
      if (rows.length === 0) return { stale: 0 };
      return await bounded((sql) => upsert(sql, rows));
    },
    async ping() {
      try {
        await pools.current()`select 1`;
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Runs the dialect's DDL, again where another session raced it. @throws {WriteError} */
async function ensureTable(sql: Sql, dialect: Dialect): Promise<void> {
  try {
    for (const statement of dialect.createTable()) {
      for (let attempt = 1;; attempt++) {
        try {
          await sql.unsafe(statement);
          break;
        } catch (err) {
          // Workers starting together: the slower one loses the creation race
          // (`isCreateRace`), and by then the other session has committed: run it again.
          if (attempt >= 3 || !isCreateRace(err)) {
            throw err;
          }
        }
      }
    }
  } catch (err) {
    throw toWriteError(err);
  }
}

/** The row counts of the steps marked with `counts`, summed by what they count. */
type Counted = Partial<Record<"applied" | "stale", number>>;

/**
 * Runs `steps` as transactions separated by `commit` steps. When one fails, the `undo` steps
 * of those already committed run (best effort, outside a transaction) before the error is
 * rethrown.
 */
async function runTransactions(
  sql: Sql,
  steps: readonly SqlStep[],
  trace?: TraceStatement,
): Promise<Counted> {
  const undo: string[] = [];
  const counted: Counted = {};
  const count = (step: SqlStep, result: unknown) => {
    if (step.kind !== "query" || !step.counts) return;
    const n = (result as { count?: number } | undefined)?.count ?? 0;
    counted[step.counts] = (counted[step.counts] ?? 0) + n;
  };
  let transaction: SqlStep[] = [];
  const run = async () => {
    const pending = transaction.filter((s) => s.kind === "undo").map((s) => s.text);
    const body = transaction.filter((s) => s.kind !== "undo" && s.kind !== "commit");
    transaction = [];
    if (body.length === 0) return;
    const queries = body.filter((s): s is QueryStep => s.kind === "query");
    if (queries.length === 1 && body.length === 1) {
      // One statement is atomic on its own: no BEGIN and COMMIT round trips.
      const q = queries[0]!;
      const run = async () => await sql.unsafe(q.text, q.params as string[]);
      count(q, trace ? await trace(q.text, parametersOf(q), run) : await run());
    } else if (queries.length === body.length) {
      // No COPY: pipeline every statement (postgres.js sends an array of queries at once), so
      // a small batch costs BEGIN + one round trip + COMMIT.
      const results: unknown[] = await sql.begin((tx) =>
        queries.map((s) =>
          trace
            ? trace(
              s.text,
              parametersOf(s),
              async () => await tx.unsafe(s.text, s.params as string[]),
            )
            : tx.unsafe(s.text, s.params as string[])
        )
      );
      queries.forEach((s, i) => count(s, results[i]));
    } else {
      await sql.begin(async (tx) => {
        for (const step of body) {
          count(
            step,
            trace ? await trace(step.text, {}, () => runStep(tx, step)) : await runStep(tx, step),
          );
        }
      });
    }
    undo.push(...pending);
  };
  try {
    for (const step of steps) {
      if (step.kind === "commit") await run();
      else transaction.push(step);
    }
    await run();
    return counted;
  } catch (err) {
    for (const text of undo.reverse()) await sql.unsafe(text).catch(() => {});
    throw err;
  }
}

type QueryStep = Extract<SqlStep, { kind: "query" }>;

/** A statement's bound parameter count, for its span (the values stay out of traces). */
function parametersOf(step: QueryStep): Attributes {
  return { "user_pipeline.parameters": step.params.length };
}

/** Runs one step; a query's result is returned for its row count. */
async function runStep(tx: TransactionSql, step: SqlStep): Promise<unknown> {
  if (step.kind === "query") return await tx.unsafe(step.text, step.params as string[]);
  if (step.kind === "load") {
    await tx.unsafe(step.text);
    return;
  }
  if (step.kind !== "copy") return;
  const writable = await tx.unsafe(step.text).writable();
  await new Promise<void>((resolve, reject) => {
    writable.once("error", reject);
    writable.once("finish", () => resolve());
    writable.end(step.data);
  });
}
