/**
 * One fault scenario through the real pipeline: a fresh topic pair, schema and group on a
 * private 3-broker stack, the ingest and two workers as real processes, the ledger load and the
 * offsets auditor; then the fault, a drain, and the checks against the ledger.
 */
import postgres from "postgres";
import { type TestKafka, testKafka } from "../testing/kafka.ts";
import { type LogLine, type RunningProgram, startProgram } from "../testing/program.ts";
import { type WaitOptions, waitUntil } from "../testing/wait.ts";
import { TEST_SECRET } from "../testing/webhook.ts";
import { signWebhook } from "../ingest/http/webhook_signature.ts";
import type { KafkaAdmin } from "../shared/kafka/admin.ts";
import { type PrivateStack, type StackNetwork, uniqueName } from "../stack/harness.ts";
import { appliedTwice, installAppliedLog } from "./applied_log.ts";
import { ackedNotInTopic, checkLedger, type LedgerCheck, versionOf } from "./ledger.ts";
import { type LedgerLoad, startLedgerLoad } from "./ledger_load.ts";
import {
  type OffsetAuditor,
  type OffsetMovedBack,
  type OffsetViolation,
  startOffsetAuditor,
} from "./offset_auditor.ts";
import { groupCoordinator, partitionLeader } from "./partition_leader.ts";
import { rssMiB } from "./rss.ts";
import { ingestEnv, workerEnv } from "./pipeline_env.ts";
import { type RandomUserStandin, startRandomUserStandin } from "./randomuser_standin.ts";

/** Load and timing parameters of a run (fault lengths are parameters, not synchronisation). */
export interface FaultParams {
  /** Events per second of the webhook load. */
  rate: number;
  /** Users per request. */
  batch: number;
  /** Distinct user ids (each gets new versions in turn). */
  poolSize: number;
  /** Acknowledged events before the fault is injected. */
  warmupEvents: number;
  /** How long a fault lasts (worker or broker down, ingest down). */
  faultSeconds: number;
  /** How long PostgreSQL stays stopped. */
  postgresDownSeconds: number;
  /** Load after the fault healed, in seconds. */
  tailSeconds: number;
  /** Workers added or removed in a rebalance storm, and the seconds between two. */
  stormSteps: number;
  stormStepSeconds: number;
  /** Pull runs in the randomuser scenario. */
  pulls: number;
  /** The workers' group session timeout (the zombie pauses longer than this). */
  sessionTimeoutMs: number;
  /**
   * How long a path to a broker stays blackholed: past the clients' 30 s request timeout, so
   * that a request in flight on it times out.
   */
  netFaultSeconds: number;
  /**
   * How long the workers' path to PostgreSQL stays blackholed: past half the suite's 10 s write
   * deadline at the half-way /readyz note, and past the deadline itself.
   */
  pgBlackholeSeconds: number;
  /** How long a frozen (SIGSTOP) leader stays frozen. */
  freezeSeconds: number;
  /** The slowed warehouse: latency per packet (ms) for `slowSeconds`, then a table lock. */
  slowLatencyMs: number;
  slowSeconds: number;
  lockSeconds: number;
  /** Upper bound for the drain after the load stopped. */
  drainTimeoutMs: number;
}

/** Small defaults that prove the guarantees without loading a shared 2-core machine. */
export const DEFAULT_PARAMS: FaultParams = {
  rate: 200,
  batch: 10,
  poolSize: 1_000,
  warmupEvents: 1_000,
  faultSeconds: 8,
  postgresDownSeconds: 30,
  tailSeconds: 8,
  stormSteps: 8,
  stormStepSeconds: 3,
  pulls: 4,
  sessionTimeoutMs: 6_000,
  netFaultSeconds: 35,
  pgBlackholeSeconds: 16,
  freezeSeconds: 30,
  slowLatencyMs: 200,
  slowSeconds: 30,
  lockSeconds: 30,
  drainTimeoutMs: 120_000,
};

/** What a scenario can reach while it runs. */
export interface FaultContext {
  stack: PrivateStack;
  /** The scenario's warehouse (direct, not through a path) and schema. */
  sql: postgres.Sql;
  schema: string;
  kafka: TestKafka;
  topic: string;
  /** The node id of the broker leading `partition` of the topic now. */
  leaderOf(partition: number): Promise<number>;
  /** The node id of the broker coordinating the workers' group now. */
  coordinator(): Promise<number>;
  /**
   * The network paths `ingest` and `worker` (every broker and PostgreSQL through Toxiproxy).
   * @throws {Error} on a stack started without them.
   */
  net(): StackNetwork;
  /** The `/readyz` answer of every running worker: status and body, and its RSS in MiB. */
  readyz(): Promise<{ pid: number; status: number; body: string; rssMiB: number }[]>;
  params: FaultParams;
  /** The ingest now (replaced by `restartIngest`). */
  ingest(): RunningProgram;
  restartIngest(): Promise<void>;
  /** Every worker started for this scenario, alive or not. */
  workers: RunningProgram[];
  startWorker(): Promise<RunningProgram>;
  /** Marks a worker the scenario is about to kill or stop: it is not restarted. */
  retire(worker: RunningProgram): void;
  standin: RandomUserStandin;
  load: LedgerLoad;
  auditor: OffsetAuditor;
  /** Waits `seconds` of fault time (a scenario parameter, not a synchronisation). */
  hold(seconds: number): Promise<void>;
  /** Sends one signed POST /v1/pull and files the users it pulled in the ledger. */
  pull(): Promise<number>;
  note(text: string): void;
}

/** A fault to inject. `inject` returns once the fault is healed. */
export interface Scenario {
  name: string;
  description: string;
  inject(ctx: FaultContext): Promise<void>;
  /**
   * What this fault must leave working beyond the ledger's checks (counts, never times): one
   * sentence per expectation the result does not meet.
   */
  expect?(result: ScenarioResult): string[];
}

/** One line of the results table. */
export interface ScenarioResult {
  scenario: string;
  accepted: number;
  rows: number;
  lost: number;
  duplicated: number;
  deadLettered: number;
  stale: number;
  failedWritten: number;
  /** Acknowledged user versions missing from the topic itself (lost by Kafka or the ingest). */
  notInTopic: string[];
  offsetViolations: OffsetViolation[];
  /** Committed offsets that went back (a member committing for partitions it lost). */
  offsetsMovedBack: OffsetMovedBack[];
  /** Events the warehouse applied to a user more than once (see `applied_log.ts`). */
  appliedTwice: { id: string; eventId: string; times: number }[];
  /** Source records dead-lettered more than once. */
  deadTwice: { source: string; times: number }[];
  /** "joined group" lines of the workers from the injection on (one per member and rebalance). */
  joinsAfterFault: number;
  /**
   * What still worked while the fault lasted: requests acknowledged, and records committed
   * below the group's offsets (verified by the auditor), from the injection to the heal.
   */
  duringFault: { seconds: number; acked: number; committed: number };
  offsetsVerified: number;
  recoverySeconds: number | null;
  indeterminate: number;
  refused: number;
  notes: string[];
  check: LedgerCheck;
  /** The last warnings and errors each program logged (evidence when a scenario fails). */
  logTail: { program: string; pid: number; lines: unknown[] }[];
  /** Every warning and error line of the scenario's programs, counted by program and message. */
  complaints: Record<string, number>;
  /** Each program's last log lines, of any level, when the group did not drain (else empty). */
  lastLines: { program: string; pid: number; lines: unknown[] }[];
  /** Webhook answers by status. */
  statuses: Record<string, number>;
  /** The scenario's own expectations this run did not meet (see `Scenario.expect`). */
  unmet: string[];
}

const PARTITIONS = 6;

/** The stack's network paths the suite uses (see `PrivateStack.network`). */
export const NETWORK_PATHS = ["ingest", "worker"];
/** How the fault runs poll: every 200 ms, since each check reads the cluster. */
export const POLL: WaitOptions = { intervalMs: 200 };

/** Runs `scenario` on `stack` and returns its line; every process and topic is gone after. */
export async function runScenario(
  stack: PrivateStack,
  scenario: Scenario,
  params: FaultParams,
  log: (text: string) => void = () => {},
): Promise<ScenarioResult> {
  const kafka = await testKafka(stack.env.KAFKA_BROKERS);
  const admin = kafka.admin;
  const sql = postgres(stack.env.WAREHOUSE_URL, { max: 2, onnotice: () => {} });
  const topic = uniqueName("faults");
  const dlq = `${topic}.dlq`;
  const schema = uniqueName("faults");
  const groupId = `${topic}_group`;
  const notes: string[] = [];
  const programs: RunningProgram[] = [];
  let closing = false;
  let standin: RandomUserStandin | null = null;
  let load: LedgerLoad | null = null;
  let auditor: OffsetAuditor | null = null;
  let drainedNot = false;
  try {
    await createTopicPair(admin, [topic, dlq]);
    standin = startRandomUserStandin({ results: 20 });
    const names = { topic, dlq, groupId, schema };
    // On a stack with network paths, each program reaches Kafka and PostgreSQL through its
    // own proxies; the auditor and the checks go direct.
    const envOfIngest = ingestEnv(stack.network?.env("ingest") ?? stack.env, names, standin.url);
    const envOfWorker = workerEnv(
      stack.network?.env("worker") ?? stack.env,
      names,
      params.sessionTimeoutMs,
    );
    const startIngest = async () => {
      const p = await startProgram("ingest", envOfIngest);
      programs.push(p);
      return p;
    };
    const workers: RunningProgram[] = [];
    // Like compose's `restart: unless-stopped`: a worker that exits on its own (its watchdog,
    // a crash) is noted with its last log lines and started again; one the scenario stopped
    // on purpose (`retire`) is not.
    const retired = new Set<RunningProgram>();
    const gone = new Set<RunningProgram>();
    let restarts = 0;
    const startWorker = async (): Promise<RunningProgram> => {
      const p = await startProgram("worker", envOfWorker);
      programs.push(p);
      workers.push(p);
      void p.exited.then(() => gone.add(p));
      p.exited.then(async (status) => {
        if (closing || retired.has(p) || restarts >= 30) return;
        // Backs off like a supervisor: 0.5 s doubling up to 8 s between restarts.
        await new Promise((r) => setTimeout(r, Math.min(8_000, 500 * 2 ** Math.min(restarts, 4))));
        if (closing) return;
        restarts++;
        const tail = p.logs.filter(isEvidence).slice(-3);
        notes.push(
          `worker ${p.pid} exited on its own (code ${status.code}); restarted. ${
            JSON.stringify(tail)
          }`,
        );
        log(`${scenario.name}: ${notes.at(-1)}`);
        startWorker().catch((err) => notes.push(`restart failed: ${(err as Error).message}`));
      });
      return p;
    };
    // Before the workers start (concurrent CREATE SCHEMA IF NOT EXISTS can collide): the
    // table, and the log of what the warehouse applied.
    await installAppliedLog(sql, schema);
    let ingest = await startIngest();
    await Promise.all([startWorker(), startWorker()]);

    const runLoad = startLedgerLoad({
      target: () => `http://127.0.0.1:${ingest.port}`,
      secret: TEST_SECRET,
      rate: params.rate,
      batch: params.batch,
      concurrency: 8,
      poolSize: params.poolSize,
      maxEvents: params.rate * 3_600,
      maxMs: 30 * 60_000,
      timeoutMs: 15_000,
      refuseEvery: 50,
    });
    load = runLoad;
    const audit = await startOffsetAuditor({
      connection: kafka.connection,
      admin,
      sql,
      topic,
      dlq,
      groupId,
      schema,
      sampleMs: 1_000,
    });
    auditor = audit;
    const ready = standin;

    await waitUntil(
      () => runLoad.ledger.counts.acknowledged >= params.warmupEvents && audit.verified() > 0,
      120_000,
      `${params.warmupEvents} acknowledged events and a first verified commit`,
      POLL,
    );
    const preFaultLag = Math.max(...audit.lagHistory.map((s) => s.lag), 0);
    log(`${scenario.name}: warm, lag ${preFaultLag}; injecting`);
    const injectedAt = performance.now();
    const verifiedAtInjection = audit.verified();
    const joinsBefore = new Map(programs.map((p) => [p, joinsOf(p)]));
    const ctx: FaultContext = {
      stack,
      sql,
      schema,
      kafka,
      topic,
      leaderOf: (partition) => partitionLeader(kafka.connection, topic, partition),
      coordinator: () => groupCoordinator(kafka.connection, groupId),
      net() {
        if (!stack.network) throw new Error("this scenario needs a stack with network paths");
        return stack.network;
      },
      async readyz() {
        const alive = workers.filter((w) => !retired.has(w) && !gone.has(w));
        return await Promise.all(alive.map(async (w) => {
          try {
            const res = await fetch(`http://127.0.0.1:${w.port}/readyz`, {
              signal: AbortSignal.timeout(2_000),
            });
            const body = (await res.text()).slice(0, 300);
            return { pid: w.pid, status: res.status, body, rssMiB: await rssMiB(w.pid) };
          } catch (err) {
            return { pid: w.pid, status: 0, body: (err as Error).message, rssMiB: NaN };
          }
        }));
      },
      params,
      ingest: () => ingest,
      async restartIngest() {
        ingest = await startIngest();
      },
      workers,
      startWorker,
      retire: (worker) => void retired.add(worker),
      standin: ready,
      load: runLoad,
      auditor: audit,
      hold: (seconds) => new Promise((r) => setTimeout(r, seconds * 1000)),
      async pull() {
        ready.takeServed();
        const body = new TextEncoder().encode("");
        const id = `msg_${crypto.randomUUID()}`;
        const ts = Math.floor(Date.now() / 1000);
        const response = await fetch(`http://127.0.0.1:${ingest.port}/v1/pull`, {
          method: "POST",
          body,
          headers: {
            "webhook-id": id,
            "webhook-timestamp": String(ts),
            "webhook-signature": await signWebhook(TEST_SECRET, id, ts, body),
          },
          signal: AbortSignal.timeout(60_000),
        });
        await response.body?.cancel();
        const ids = ready.takeServed().map((u): [string, number] => [u, 0]);
        const outcome = response.ok
          ? "acknowledged"
          : response.status >= 500
          ? "indeterminate"
          : "failed";
        runLoad.ledger.file(outcome, ids);
        return response.status;
      },
      note: (text) => {
        notes.push(text);
        log(`${scenario.name}: ${text}`);
      },
    };
    await scenario.inject(ctx);
    const healedAt = performance.now();
    await audit.sample().catch(() => {});
    const duringFault = {
      seconds: Math.round((healedAt - injectedAt) / 100) / 10,
      acked: runLoad.ackTimes.filter((t) => t > injectedAt && t <= healedAt).length,
      committed: audit.verified() - verifiedAtInjection,
    };
    log(`${scenario.name}: healed after ${((healedAt - injectedAt) / 1000).toFixed(1)} s`);
    await ctx.hold(params.tailSeconds);
    await runLoad.stop();
    log(`${scenario.name}: load stopped, draining`);

    await waitUntil(
      async () => {
        await audit.sample().catch(() => {});
        // Caught up, and the audit read every record so that each one below the commits
        // was verified (or found missing).
        return audit.lag() === 0 && audit.verified() + audit.violations.length >= audit.ends();
      },
      params.drainTimeoutMs,
      "the group to commit to the end of the topic",
      POLL,
    ).catch((err) => {
      notes.push(
        `not drained: ${(err as Error).message}; lag by partition ${
          JSON.stringify(audit.lagByPartition())
        }, ${audit.verified()} of ${audit.ends()} records verified`,
      );
      drainedNot = true;
    });
    const dlqEnd = (await admin.endOffsets(dlq)).reduce((n, end) => n + Number(end), 0);
    await waitUntil(() => audit.deadRead() >= dlqEnd, 30_000, "every dead letter read", POLL)
      .catch(() => notes.push("dead letters not all read"));

    // Recovery: from the injection until the ingest acknowledged again and the lag was back
    // at its pre-fault level (sampled every second; the load keeps running through the fault).
    const lagBack = audit.lagHistory.find((s) =>
      s.at > healedAt && s.lag <= Math.max(preFaultLag, params.rate)
    );
    const ackAgain = runLoad.ackTimes.find((t) => t > injectedAt);
    const recoverySeconds = lagBack && ackAgain !== undefined
      ? Math.round((Math.max(lagBack.at, ackAgain) - injectedAt) / 100) / 10
      : null;

    const rows = await sql.unsafe(`select id, last_name from ${schema}.users`).catch((err) => {
      if ((err as { code?: string }).code === "42P01") return [];
      throw err;
    });
    const check = checkLedger(
      runLoad.ledger,
      rows.map((r) => ({ id: String(r.id), version: versionOf(String(r.last_name)) })),
      audit.deadIds,
    );
    const twice = await appliedTwice(sql, schema);
    const deadTwice = audit.deadTwice();
    const result: ScenarioResult = {
      scenario: scenario.name,
      accepted: check.accepted,
      rows: check.rows,
      lost: check.lost.length,
      // Two rows for one id (impossible with the primary key), an event applied twice, a
      // record dead-lettered twice.
      duplicated: check.duplicated.length + twice.length + deadTwice.length,
      deadLettered: check.deadLettered,
      stale: check.stale.length,
      failedWritten: check.failedButWritten.length,
      notInTopic: ackedNotInTopic(runLoad.ledger, audit.seen),
      offsetViolations: [...audit.violations],
      offsetsMovedBack: [...audit.movedBack],
      duringFault,
      appliedTwice: twice,
      deadTwice,
      joinsAfterFault: programs.filter((p) => p.name === "worker").reduce(
        (n, p) => n + joinsOf(p) - (joinsBefore.get(p) ?? 0),
        0,
      ),
      offsetsVerified: audit.verified(),
      recoverySeconds,
      indeterminate: check.counts.indeterminate,
      refused: check.counts.failed,
      notes,
      check,
      logTail: programs.map((p) => ({
        program: p.name,
        pid: p.pid,
        lines: p.logs.filter(isEvidence).slice(-6),
      })),
      complaints: countComplaints(programs),
      lastLines: drainedNot
        ? programs.map((p) => ({ program: p.name, pid: p.pid, lines: p.logs.slice(-15) }))
        : [],
      statuses: { ...runLoad.statuses },
      unmet: [],
    };
    result.unmet = scenario.expect?.(result) ?? [];
    return result;
  } finally {
    closing = true;
    await load?.stop().catch(() => {});
    await auditor?.stop().catch(() => {});
    await Promise.all(programs.map(async (p) => {
      p.kill("SIGCONT");
      await p.stop("SIGTERM", 5_000).catch(() => {});
    }));
    await standin?.close().catch(() => {});
    await admin.deleteTopics([topic, dlq]).catch(() => {});
    await kafka.close().catch(() => {});
    await sql.unsafe(`drop schema if exists ${schema} cascade`).catch(() => {});
    await sql.end({ timeout: 5 });
  }
}

/** `program level: message` of every warning, error and non-JSON line, with its count. */
function countComplaints(programs: readonly RunningProgram[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of programs) {
    for (const line of p.logs.filter(isEvidence)) {
      const what = line.msg === "(raw)"
        ? `(not JSON) ${String(line.raw).slice(0, 80)}`
        : `${line.level}: ${line.msg}${line.error ? ` (${String(line.error).slice(0, 80)})` : ""}`;
      const key = `${p.name} ${what}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}

/** How many times `program` logged joining its group. */
function joinsOf(program: RunningProgram): number {
  return program.logs.filter((l) => l.msg === "joined group").length;
}

/** Warnings, errors and non-JSON lines (an uncaught exception) of a program's log. */
function isEvidence(line: LogLine): boolean {
  return line.level === "warn" || line.level === "error" || line.msg === "(raw)";
}

/**
 * Creates the scenario's topics (6 partitions, replication factor 3, `min.insync.replicas=2`)
 * and waits until every partition has a leader.
 */
export async function createTopicPair(admin: KafkaAdmin, topics: string[]): Promise<void> {
  await admin.createTopics(
    topics.map((topic) => ({
      topic,
      partitions: PARTITIONS,
      replicationFactor: 3,
      configs: { "min.insync.replicas": "2" },
    })),
    60_000,
  );
}
