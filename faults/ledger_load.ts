/**
 * A steady, signed webhook load that keeps a `Ledger`: several versions of each user id over
 * time, a small share of deliberately refused requests, and every answer filed.
 *
 * Reuses the load generator's pieces (`HttpConnection`, `syntheticUser`) and the ingest's
 * `signWebhook`. A user is never in two requests at once, so its versions reach the ingest in
 * order and the last acknowledged one must be what the warehouse holds.
 */
import { signWebhook } from "../ingest/http/webhook_signature.ts";
import { HttpConnection } from "../load/http_connection.ts";
import { syntheticUser } from "../load/synthetic_user.ts";
import { createRng } from "../testing/rng.ts";
import type { UserInput } from "../shared/event.ts";
import { Ledger, type Outcome } from "./ledger.ts";

/** What `startLedgerLoad` sends. */
export interface LedgerLoadOptions {
  /** The ingest's base URL now (it changes when the ingest is restarted). */
  target(): string;
  /** The webhook secret (`whsec_…`). */
  secret: string;
  /** Events per second. */
  rate: number;
  /** Users per request. */
  batch: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Distinct user ids that get new versions in turn. */
  poolSize: number;
  /** Upper bound on events sent. */
  maxEvents: number;
  /** Upper bound on the load's length. */
  maxMs: number;
  /** A request without an answer after this is indeterminate. */
  timeoutMs: number;
  /** Every n-th request is signed with a wrong key (expects 401; 0 = never). */
  refuseEvery: number;
  seed?: number;
}

/** A running load. */
export interface LedgerLoad {
  ledger: Ledger;
  /** Times (performance.now) of the acknowledged requests. */
  ackTimes: number[];
  /** Requests answered so far, by status (`timeout`, `error` for no answer). */
  statuses: Record<string, number>;
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
  /** Resolves when the load ended (count, time, or `stop`). */
  done: Promise<void>;
}

const WRONG_SECRET = "whsec_" + btoa("this-is-not-the-webhook-key-0000");

interface PooledUser {
  base: UserInput;
  next: number;
  busy: boolean;
}

/** Starts the load; call `stop()` (in `finally`). */
export function startLedgerLoad(opts: LedgerLoadOptions): LedgerLoad {
  const ledger = new Ledger();
  const random = createRng(opts.seed ?? 7).next;
  const pool: PooledUser[] = [];
  const statuses: Record<string, number> = {};
  const encoder = new TextEncoder();
  let cursor = 0;
  let sent = 0;
  let requestNo = 0;
  let stopped = false;
  const ackTimes: number[] = [];
  const started = performance.now();
  const deadline = started + opts.maxMs;
  const wake = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake.add(done);
    });

  /** The next `n` users not in flight, round-robin over the pool (growing it first). */
  const take = (n: number): PooledUser[] => {
    const out: PooledUser[] = [];
    for (let tries = 0; out.length < n && tries < opts.poolSize * 2; tries++) {
      if (pool.length < opts.poolSize) {
        const u = { base: syntheticUser(random), next: 0, busy: false };
        pool.push(u);
      }
      const u = pool[cursor++ % pool.length]!;
      if (u.busy || out.includes(u)) continue;
      out.push(u);
    }
    return out;
  };

  const worker = async () => {
    let conn: HttpConnection | null = null;
    let connTarget = "";
    try {
      while (!stopped && sent < opts.maxEvents && performance.now() < deadline) {
        const i = requestNo++;
        const due = started + (i * opts.batch * 1000) / opts.rate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        if (stopped || performance.now() >= deadline) return;
        const refused = opts.refuseEvery > 0 && i % opts.refuseEvery === opts.refuseEvery - 1;
        let users: PooledUser[];
        let versions: [string, number][];
        let body: unknown[];
        if (refused) {
          // Fresh ids that no accepted request ever carries: none may become a row.
          users = [];
          body = Array.from({ length: opts.batch }, () => ({ ...syntheticUser(random) }));
          versions = body.map((u) => [(u as UserInput).id, 0]);
        } else {
          users = take(opts.batch);
          if (users.length === 0) continue;
          versions = users.map((u) => [u.base.id, u.next++]);
          body = users.map((u, k) => ({
            ...u.base,
            last_name: `${u.base.last_name} v${versions[k]![1]}`,
          }));
        }
        for (const u of users) u.busy = true;
        sent += versions.length;
        const bytes = encoder.encode(JSON.stringify(body));
        const id = `msg_${crypto.randomUUID()}`;
        const ts = Math.floor(Date.now() / 1000);
        const headers = {
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(ts),
          "webhook-signature": await signWebhook(
            refused ? WRONG_SECRET : opts.secret,
            id,
            ts,
            bytes,
          ),
        };
        let status = "error";
        try {
          const target = opts.target();
          if (!conn || connTarget !== target) {
            conn?.close();
            conn = null;
            conn = await HttpConnection.open(new URL(target));
            connTarget = target;
          }
          const c: HttpConnection = conn;
          let timer: ReturnType<typeof setTimeout> | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              status = "timeout";
              c.close();
              reject(new Error("timeout"));
            }, opts.timeoutMs);
          });
          try {
            status = String(
              (await Promise.race([c.post("/v1/users", headers, bytes), timeout])).status,
            );
          } finally {
            clearTimeout(timer);
          }
        } catch {
          conn?.close();
          conn = null;
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
        const code = Number(status);
        let outcome: Outcome = "indeterminate";
        if (code >= 200 && code < 300) outcome = "acknowledged";
        else if (code >= 400 && code < 500 && code !== 408 && code !== 429) outcome = "failed";
        if (outcome === "acknowledged") ackTimes.push(performance.now());
        ledger.file(outcome, versions);
        for (const u of users) u.busy = false;
      }
    } finally {
      (conn as HttpConnection | null)?.close();
    }
  };

  const done = Promise.all(Array.from({ length: opts.concurrency }, worker)).then(() => {});
  return {
    ledger,
    statuses,
    ackTimes,
    done,
    async stop() {
      stopped = true;
      for (const w of [...wake]) w();
      await done;
    },
  };
}
