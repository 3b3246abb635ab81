import assert from "node:assert/strict";
import type { ScenarioResult } from "./fault_run.ts";
import { pickScenarios } from "./scenarios.ts";

/** A result with the fields the scenarios' expectations read. */
function result(part: Partial<ScenarioResult>): ScenarioResult {
  return {
    duringFault: { seconds: 35, acked: 0, committed: 0 },
    joinsAfterFault: 0,
    notes: [],
    ...part,
  } as ScenarioResult;
}

const expectOf = (name: string) => (r: ScenarioResult) => pickScenarios([name])[0]!.expect!(r);

Deno.test("worker-postgres-blackhole expects /readyz to name the hung write half-way", () => {
  const expect = expectOf("worker-postgres-blackhole");
  const said =
    "blackholed: /readyz 503 warehouse write in progress for 6 s (RSS 150 MiB) | 200 ok (RSS 149 MiB)";
  assert.deepEqual(expect(result({ notes: [said] })), []);
  assert.equal(expect(result({ notes: ["blackholed: /readyz 200 ok (RSS 150 MiB)"] })).length, 1);
  assert.equal(
    expect(result({ notes: ["locked: /readyz 503 warehouse write in progress for 6 s"] })).length,
    1,
    "another phase's note does not count",
  );
});

Deno.test("the leader scenarios expect work to go on for what the healthy brokers serve", () => {
  for (
    const [name, field] of [
      ["worker-leader-blackhole", "committed"],
      ["ingest-leader-blackhole", "acked"],
      ["leader-freeze", "acked"],
    ] as const
  ) {
    const expect = expectOf(name);
    const none = result({});
    const some = result({ duringFault: { seconds: 35, acked: 0, committed: 0, [field]: 12 } });
    assert.equal(expect(none).length, 1, `${name} with nothing ${field}`);
    assert.deepEqual(expect(some), [], `${name} with 12 ${field}`);
  }
});

Deno.test("coordinator-blackhole expects the group to settle in at most two rebalances", () => {
  const expect = expectOf("coordinator-blackhole");
  assert.deepEqual(expect(result({ joinsAfterFault: 4 })), []);
  assert.match(expect(result({ joinsAfterFault: 30 }))[0]!, /not 30 joins/);
});

Deno.test("postgres-slow expects /readyz to say 503 and why while the table is locked", () => {
  const expect = expectOf("postgres-slow");
  assert.deepEqual(
    expect(
      result({ notes: ["locked: /readyz 503 the last warehouse write failed (RSS 150 MiB)"] }),
    ),
    [],
  );
  assert.equal(expect(result({ notes: ["locked: /readyz 200 ok (RSS 150 MiB)"] })).length, 1);
});
