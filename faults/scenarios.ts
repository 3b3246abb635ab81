/**
 * The faults, one per scenario. Each `inject` breaks one thing while the load runs and returns
 * once it is mended; how long a fault lasts is a parameter (`FaultParams`).
 */
import type { NetTarget } from "../stack/harness.ts";
import type { FaultContext, Scenario, ScenarioResult } from "./fault_run.ts";

/** Waits until the group committed something new: the workers are then inside a write cycle. */
async function afterNextCommit(ctx: FaultContext): Promise<void> {
  const before = ctx.auditor.verified();
  const deadline = Date.now() + 30_000;
  while (ctx.auditor.verified() === before && Date.now() < deadline) {
    await ctx.auditor.sample().catch(() => {});
  }
}

/** Notes what the workers' `/readyz` answered, once. */
async function noteReadiness(ctx: FaultContext, when: string): Promise<void> {
  const answers = await ctx.readyz();
  ctx.note(
    `${when}: /readyz ${
      answers.map((a) => `${a.status} ${a.body} (RSS ${a.rssMiB} MiB)`).join(" | ")
    }`,
  );
}

/** Holds `seconds`, noting the workers' `/readyz` half-way. */
async function holdNotingReadiness(ctx: FaultContext, seconds: number, when: string) {
  await ctx.hold(seconds / 2);
  await noteReadiness(ctx, when);
  await ctx.hold(seconds / 2);
}

/** Partitions looked at for a leader that is not the coordinator (the suite's topics have 6). */
const PARTITIONS_TRIED = 6;

/** The node the stack lists first in every program's `KAFKA_BROKERS` (nodes count from 1). */
const FIRST_BROKER = 1;

/** `what` as an unmet expectation when `ok` is false. */
function unless(ok: boolean, what: string): string[] {
  return ok ? [] : [what];
}

/** The notes a `holdNotingReadiness(…, when)` left, with a /readyz 503 naming a reason. */
function readinessSaid(r: ScenarioResult, when: string, reason: RegExp): boolean {
  const said = new RegExp(`^${when}: /readyz [^\\n]*503 [^|\\n]*${reason.source}`);
  return r.notes.some((n) => said.test(n));
}

/** Counts the load's answers from now on: the returned function says `202: n, 503: m`. */
function answersFrom(ctx: FaultContext): () => string {
  const before = { ...ctx.load.statuses };
  return () =>
    Object.entries(ctx.load.statuses).map(([k, n]) => `${k}: ${n - (before[k] ?? 0)}`).join(", ");
}

/**
 * Blackholes `target` for `seconds`, noting the workers' `/readyz` half-way and the load's
 * answers meanwhile, then heals it.
 */
async function blackholeFor(
  ctx: FaultContext,
  target: NetTarget,
  seconds: number,
  what: string,
): Promise<void> {
  const answers = answersFrom(ctx);
  await ctx.net().blackhole(target);
  ctx.note(`${what} blackholed for ${seconds} s`);
  await holdNotingReadiness(ctx, seconds, "blackholed");
  await ctx.net().heal(target);
  ctx.note(`answers meanwhile: ${answers()}`);
}

/** Kills `worker` right after the group committed something new, i.e. inside its next batch. */
async function killMidBatch(ctx: FaultContext, index: number): Promise<void> {
  await afterNextCommit(ctx);
  const worker = ctx.workers[index]!;
  ctx.retire(worker);
  worker.kill("SIGKILL");
  await worker.exited;
}

/** Every scenario of the full suite, in the order `deno task faults` runs them. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: "worker-kill",
    description: "SIGKILL of one worker mid-batch; a new worker starts after the fault time",
    async inject(ctx) {
      await killMidBatch(ctx, 0);
      ctx.note(`killed worker pid ${ctx.workers[0]!.pid}`);
      await ctx.hold(ctx.params.faultSeconds);
      await ctx.startWorker();
    },
  },
  {
    name: "workers-kill-both",
    description: "SIGKILL of both workers; two new workers start after the fault time",
    async inject(ctx) {
      const [a, b] = [ctx.workers[0]!, ctx.workers[1]!];
      await killMidBatch(ctx, 0);
      ctx.retire(b);
      b.kill("SIGKILL");
      await b.exited;
      ctx.note(`killed workers ${a.pid} and ${b.pid}`);
      await ctx.hold(ctx.params.faultSeconds);
      await Promise.all([ctx.startWorker(), ctx.startWorker()]);
    },
  },
  {
    name: "leader-kill",
    description: "SIGKILL of the broker leading partition 0, restarted after the fault time",
    async inject(ctx) {
      const leader = await ctx.leaderOf(0);
      await ctx.stack.stopBroker(leader, { kill: true });
      ctx.note(`killed broker ${leader} (leader of partition 0)`);
      await ctx.hold(ctx.params.faultSeconds);
      await ctx.stack.startBroker(leader);
    },
  },
  {
    name: "broker-restart",
    description: "graceful stop and start of the broker leading partition 1",
    async inject(ctx) {
      const leader = await ctx.leaderOf(1);
      await ctx.stack.stopBroker(leader);
      ctx.note(`stopped broker ${leader} (leader of partition 1)`);
      await ctx.hold(ctx.params.faultSeconds);
      await ctx.stack.startBroker(leader);
    },
  },
  {
    name: "ingest-kill",
    description: "SIGKILL of the ingest with requests in flight; restarted after the fault time",
    async inject(ctx) {
      const ingest = ctx.ingest();
      ingest.kill("SIGKILL");
      await ingest.exited;
      ctx.note(`killed ingest ${ingest.pid}`);
      await ctx.hold(ctx.params.faultSeconds);
      await ctx.restartIngest();
    },
  },
  {
    name: "postgres-stop",
    description: "PostgreSQL stopped (fast) for postgresDownSeconds, then started",
    async inject(ctx) {
      await ctx.stack.stopPostgres("fast");
      ctx.note(`PostgreSQL down for ${ctx.params.postgresDownSeconds} s`);
      await ctx.hold(ctx.params.postgresDownSeconds);
      await ctx.stack.startPostgres();
    },
  },
  {
    name: "randomuser-faults",
    description: "POST /v1/pull against a stand-in answering 500, 429, timeouts and garbage",
    async inject(ctx) {
      const statuses: number[] = [];
      for (let i = 0; i < ctx.params.pulls; i++) statuses.push(await ctx.pull());
      ctx.note(
        `pull answers ${statuses.join(",")}; stand-in served ${JSON.stringify(ctx.standin.served)}`,
      );
    },
  },
  {
    name: "zombie-worker",
    description: "SIGSTOP of a worker for longer than its session timeout, then SIGCONT",
    async inject(ctx) {
      const worker = ctx.workers[0]!;
      worker.kill("SIGSTOP");
      const seconds = ctx.params.sessionTimeoutMs / 1000 + ctx.params.faultSeconds;
      ctx.note(`stopped worker ${worker.pid} for ${seconds} s`);
      await ctx.hold(seconds);
      worker.kill("SIGCONT");
    },
  },
  {
    name: "rebalance-storm",
    description: "workers added and removed (SIGTERM or SIGKILL) every few seconds, bounded",
    async inject(ctx) {
      const extra = [];
      for (let step = 0; step < ctx.params.stormSteps; step++) {
        if (step % 2 === 0) extra.push(await ctx.startWorker());
        else {
          const w = extra.shift()!;
          ctx.retire(w);
          if (step % 4 === 1) w.kill("SIGKILL");
          else await w.stop("SIGTERM", 10_000);
          await w.exited;
        }
        await ctx.hold(ctx.params.stormStepSeconds);
      }
      ctx.note(`${ctx.params.stormSteps} membership changes`);
    },
  },
  {
    name: "postgres-stop-workers-kill",
    description:
      "PostgreSQL stopped, both workers SIGKILLed while it is down, two new ones started, then PostgreSQL started",
    async inject(ctx) {
      await afterNextCommit(ctx);
      await ctx.stack.stopPostgres("fast");
      await ctx.hold(3);
      const [a, b] = [ctx.workers[0]!, ctx.workers[1]!];
      for (const w of [a, b]) {
        ctx.retire(w);
        w.kill("SIGKILL");
        await w.exited;
      }
      ctx.note(`PostgreSQL stopped; workers ${a.pid} and ${b.pid} killed 3 s later`);
      await Promise.all([ctx.startWorker(), ctx.startWorker()]);
      await ctx.hold(ctx.params.postgresDownSeconds);
      await ctx.stack.startPostgres();
    },
  },
  {
    name: "worker-postgres-blackhole",
    description:
      "the workers' path to PostgreSQL blackholed mid-flush (bytes dropped, no reset) for pgBlackholeSeconds, then healed",
    async inject(ctx) {
      await afterNextCommit(ctx);
      await blackholeFor(
        ctx,
        { path: "worker", to: "postgres" },
        ctx.params.pgBlackholeSeconds,
        "worker -> PostgreSQL",
      );
    },
    expect: (r) =>
      unless(
        readinessSaid(r, "blackholed", /warehouse write in progress/),
        "half-way through, /readyz says 503 with the write that hangs",
      ),
  },
  {
    name: "worker-leader-blackhole",
    description:
      "the workers' path to the leader of partition 0 blackholed past the request timeout (netFaultSeconds)",
    async inject(ctx) {
      // A leader that is not the group's coordinator: commits and heartbeats go on, so what
      // the fault shows is the fetches alone (the partitions other brokers lead keep flowing).
      const coordinator = await ctx.coordinator();
      let partition = 0;
      let leader = await ctx.leaderOf(0);
      for (let p = 1; p < PARTITIONS_TRIED && leader === coordinator; p++) {
        partition = p;
        leader = await ctx.leaderOf(p);
      }
      await blackholeFor(
        ctx,
        { path: "worker", to: leader },
        ctx.params.netFaultSeconds,
        `worker -> broker ${leader} (leads partition ${partition}; coordinator ${coordinator})`,
      );
    },
    expect: (r) =>
      unless(
        r.duringFault.committed > 0,
        "the partitions other brokers lead are committed while one leader is blackholed",
      ),
  },
  {
    name: "ingest-leader-blackhole",
    description:
      "the ingest's path to the leader of partition 0 blackholed past the request timeout (netFaultSeconds)",
    async inject(ctx) {
      const leader = await ctx.leaderOf(0);
      await blackholeFor(
        ctx,
        { path: "ingest", to: leader },
        ctx.params.netFaultSeconds,
        `ingest -> broker ${leader}`,
      );
    },
    expect: (r) =>
      unless(
        r.duringFault.acked > 0,
        "the ingest accepts requests whose users the healthy leaders take",
      ),
  },
  {
    name: "coordinator-blackhole",
    description:
      "the workers' path to their group's coordinator blackholed for netFaultSeconds; the group must settle after",
    async inject(ctx) {
      const coordinator = await ctx.coordinator();
      await blackholeFor(
        ctx,
        { path: "worker", to: coordinator },
        ctx.params.netFaultSeconds,
        `worker -> broker ${coordinator} (group coordinator)`,
      );
    },
    // Two members: one or two rebalances after the heal are at most four joins.
    expect: (r) =>
      unless(
        r.joinsAfterFault <= 4,
        `the group settles in one or two rebalances, not ${r.joinsAfterFault} joins`,
      ),
  },
  {
    name: "leader-freeze",
    description:
      "the programs' first broker (first in KAFKA_BROKERS), a partition leader, frozen (SIGSTOP) for freezeSeconds, then resumed",
    async inject(ctx) {
      // The worst case for a client: the broker it asks first for metadata (see
      // fixes/metadata_rotation.ts) is the one whose partitions move.
      let leader = await ctx.leaderOf(0);
      for (let p = 0; p < PARTITIONS_TRIED && leader !== FIRST_BROKER; p++) {
        if (await ctx.leaderOf(p) === FIRST_BROKER) leader = FIRST_BROKER;
      }
      const answers = answersFrom(ctx);
      ctx.stack.freezeBroker(leader);
      try {
        await holdNotingReadiness(ctx, ctx.params.freezeSeconds, "frozen");
      } finally {
        ctx.stack.thawBroker(leader);
      }
      ctx.note(
        `broker ${leader} frozen ${ctx.params.freezeSeconds} s; answers meanwhile: ${answers()}`,
      );
    },
    expect: (r) =>
      unless(
        r.duringFault.acked > 0,
        "the ingest follows the moved leaders and accepts while the old one is frozen",
      ),
  },
  {
    name: "postgres-slow",
    description:
      "the workers' path to PostgreSQL slowed (slowLatencyMs per packet) for slowSeconds, then the table locked for lockSeconds",
    async inject(ctx) {
      const target = { path: "worker", to: "postgres" as const };
      await ctx.net().slow(target, ctx.params.slowLatencyMs, ctx.params.slowLatencyMs / 4);
      ctx.note(
        `worker -> PostgreSQL +${ctx.params.slowLatencyMs} ms for ${ctx.params.slowSeconds} s`,
      );
      await holdNotingReadiness(ctx, ctx.params.slowSeconds, "slowed");
      await ctx.net().heal(target);
      await ctx.sql.begin(async (tx) => {
        await tx.unsafe(`LOCK TABLE ${ctx.schema}.users IN EXCLUSIVE MODE`);
        ctx.note(`${ctx.schema}.users locked for ${ctx.params.lockSeconds} s`);
        await holdNotingReadiness(ctx, ctx.params.lockSeconds, "locked");
      });
    },
    expect: (r) =>
      unless(
        readinessSaid(r, "locked", /\S/),
        "while the table is locked, /readyz says 503 and why",
      ),
  },
];

/** The scenarios whose names are in `names` (all when empty). */
export function pickScenarios(names: readonly string[]): Scenario[] {
  if (names.length === 0) return [...SCENARIOS];
  return names.map((n) => {
    const s = SCENARIOS.find((x) => x.name === n);
    if (!s) {
      throw new Error(`Unknown scenario "${n}"; known: ${SCENARIOS.map((x) => x.name).join(", ")}`);
    }
    return s;
  });
}
