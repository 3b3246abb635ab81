/**
 * The CI cut of the fault suite, with a small load on a private 3-broker stack: a worker
 * killed mid-batch, the partition leader broker killed, the ingest killed with requests in
 * flight, a zombie worker (paused past its session timeout, then resumed), and one network
 * fault: the workers' path to PostgreSQL blackholed mid-flush (through the stack's Toxiproxy).
 * `deno task faults` runs every scenario.
 *
 * `leader-kill` found acknowledged events missing from the topic after a leader change (a
 * kafkajs bug that shared/kafka_send.ts worked around); it stays here so that a client that
 * acknowledges what it did not write cannot come back unnoticed.
 * `postgres-stop` stalled the group before 7c4ad0a and has passed once since: add it once it
 * passes repeatedly.
 */
import assert from "node:assert/strict";
import { privateStack } from "../stack/harness.ts";
import { DEFAULT_PARAMS, type FaultParams, NETWORK_PATHS, runScenario } from "./fault_run.ts";
import { pickScenarios } from "./scenarios.ts";

const PARAMS: FaultParams = {
  ...DEFAULT_PARAMS,
  rate: 150,
  poolSize: 500,
  warmupEvents: 500,
  faultSeconds: 4,
  tailSeconds: 3,
  drainTimeoutMs: 90_000,
};

Deno.test("faults: no acknowledged event is lost or doubled, no offset runs ahead", async (t) => {
  const stack = await privateStack({ prefix: "faults-ci", brokers: 3, paths: NETWORK_PATHS });
  try {
    for (
      const scenario of pickScenarios([
        "worker-kill",
        "leader-kill",
        "ingest-kill",
        "zombie-worker",
        "worker-postgres-blackhole",
      ])
    ) {
      await t.step(scenario.name, async () => {
        const r = await runScenario(stack, scenario, PARAMS);
        const detail = JSON.stringify({ ...r, check: undefined });
        assert(r.accepted >= PARAMS.warmupEvents, `load acknowledged too little: ${detail}`);
        // First, as a group that did not drain also leaves rows behind (stale, lost).
        assert.deepEqual(
          r.notes.filter((n) => n.startsWith("not drained")),
          [],
          `the group did not drain; last log lines: ${JSON.stringify(r.lastLines)}`,
        );
        assert.equal(r.lost, 0, `lost ${JSON.stringify(r.check.lost.slice(0, 5))}`);
        assert.equal(
          r.duplicated,
          0,
          `duplicated ${JSON.stringify([r.check.duplicated, r.appliedTwice, r.deadTwice])}`,
        );
        assert.equal(r.stale, 0, `stale rows ${JSON.stringify(r.check.stale.slice(0, 5))}`);
        assert.equal(r.failedWritten, 0, "a refused event became a row");
        assert.deepEqual(r.notInTopic.slice(0, 5), [], "acknowledged versions missing in Kafka");
        assert.deepEqual(r.offsetViolations, [], "a committed offset ran ahead of the warehouse");
        assert.deepEqual(r.offsetsMovedBack, [], "a committed offset moved back");
        assert(r.offsetsVerified >= r.accepted, `offsets verified below commits: ${detail}`);
        // The scenario's own (worker-postgres-blackhole: half-way through, a worker's write
        // has hung longer than half its 10 s deadline, and /readyz says so).
        assert.deepEqual(r.unmet, [], `expectations: ${JSON.stringify(r.notes)}`);
      });
    }
  } finally {
    await stack.stop();
  }
});
