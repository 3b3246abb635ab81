/**
 * `deno task faults`: the fault-injection suite on a private 3-broker stack.
 *
 *   deno task faults [--scenario NAME]... [--rate N] [--batch N] [--pool N] [--warmup N]
 *                    [--fault-seconds S] [--postgres-down-seconds S] [--tail-seconds S]
 *                    [--storm-steps N] [--net-fault-seconds S] [--list]
 *
 * Prints one line per scenario as it ends, then the Markdown table; exits 1 when a scenario
 * lost, doubled or went back on an event, or committed an offset ahead of the warehouse.
 */
import { parseArgs } from "node:util";
import { privateStack } from "../stack/harness.ts";
import {
  DEFAULT_PARAMS,
  type FaultParams,
  NETWORK_PATHS,
  runScenario,
  type ScenarioResult,
} from "./fault_run.ts";
import { passed, resultsTable } from "./results_table.ts";
import { pickScenarios, SCENARIOS } from "./scenarios.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scenario: { type: "string", multiple: true, default: [] },
    rate: { type: "string" },
    batch: { type: "string" },
    pool: { type: "string" },
    warmup: { type: "string" },
    "fault-seconds": { type: "string" },
    "postgres-down-seconds": { type: "string" },
    "tail-seconds": { type: "string" },
    "storm-steps": { type: "string" },
    "net-fault-seconds": { type: "string" },
    list: { type: "boolean", default: false },
  },
});

const out = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(`${text}\n`));

function int(name: string, text: string | undefined, fallback: number, min: number, max: number) {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    out(`Cannot parse --${name}: expected ${min}..${max}, got "${text}"`);
    Deno.exit(2);
  }
  return n;
}

if (values.list) {
  for (const s of SCENARIOS) out(`${s.name.padEnd(27)} ${s.description}`);
  Deno.exit(0);
}

const params: FaultParams = {
  ...DEFAULT_PARAMS,
  rate: int("rate", values.rate, DEFAULT_PARAMS.rate, 10, 2_000),
  batch: int("batch", values.batch, DEFAULT_PARAMS.batch, 1, 100),
  poolSize: int("pool", values.pool, DEFAULT_PARAMS.poolSize, 10, 100_000),
  warmupEvents: int("warmup", values.warmup, DEFAULT_PARAMS.warmupEvents, 1, 100_000),
  faultSeconds: int("fault-seconds", values["fault-seconds"], DEFAULT_PARAMS.faultSeconds, 1, 300),
  postgresDownSeconds: int(
    "postgres-down-seconds",
    values["postgres-down-seconds"],
    DEFAULT_PARAMS.postgresDownSeconds,
    1,
    600,
  ),
  tailSeconds: int("tail-seconds", values["tail-seconds"], DEFAULT_PARAMS.tailSeconds, 1, 300),
  stormSteps: int("storm-steps", values["storm-steps"], DEFAULT_PARAMS.stormSteps, 1, 40),
  netFaultSeconds: int(
    "net-fault-seconds",
    values["net-fault-seconds"],
    DEFAULT_PARAMS.netFaultSeconds,
    1,
    600,
  ),
};
const scenarios = pickScenarios(values.scenario ?? []);
const log = (text: string) => out(`[${new Date().toISOString().slice(11, 19)}] ${text}`);

log(`starting a private 3-broker stack for ${scenarios.length} scenario(s)`);
const stack = await privateStack({ prefix: "faults", brokers: 3, paths: NETWORK_PATHS });
const results: ScenarioResult[] = [];
try {
  for (const scenario of scenarios) {
    const t0 = performance.now();
    const r = await runScenario(stack, scenario, params, log);
    results.push(r);
    log(
      `${scenario.name}: ${passed(r) ? "PASS" : "FAIL"} in ${
        ((performance.now() - t0) / 1000).toFixed(0)
      } s ${
        JSON.stringify({
          ...r,
          check: undefined,
          logTail: undefined,
          offsetViolations: r.offsetViolations.slice(0, 5),
          offsetsMovedBack: r.offsetsMovedBack.slice(0, 5),
        })
      }`,
    );
    if (!passed(r)) {
      log(
        `${scenario.name}: lost ${JSON.stringify(r.check.lost.slice(0, 5))} stale ${
          JSON.stringify(r.check.stale.slice(0, 5))
        } duplicated ${
          JSON.stringify([...r.appliedTwice.slice(0, 5), ...r.deadTwice.slice(0, 5)])
        }`,
      );
      for (const t of r.logTail) log(`${t.program} ${t.pid}: ${JSON.stringify(t.lines)}`);
    }
  }
} catch (err) {
  log(`aborted: ${(err as Error).stack ?? err}`);
  results.length = 0;
} finally {
  await stack.stop().catch((err) => log(`stack stop: ${(err as Error).message}`));
}
out("");
out(resultsTable(results));
Deno.exit(results.length === scenarios.length && results.every(passed) ? 0 : 1);
