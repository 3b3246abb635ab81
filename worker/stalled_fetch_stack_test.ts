/**
 * Integration (a private 3-broker stack, the worker's path to Kafka through Toxiproxy, the real
 * worker program): the worker's path to the broker leading its only partition is blackholed,
 * while its path to the group's coordinator, another broker, stays open. Its fetch then hangs
 * (until the client's 30 s request timeout) and its heartbeats go on: the stall of issue 21,
 * where a member kept its partitions without reading them. The watchdog must see it within
 * `WORKER_WATCHDOG_MS` and exit 1, saying that heartbeats alone do not count, before the
 * client gives the fetch up. Before heartbeats were told apart, it stayed quiet.
 */
import assert from "node:assert/strict";
import { Admin } from "@platformatic/kafka";
import { clientOptions } from "../shared/kafka/client_options.ts";
import { privateStack } from "../stack/harness.ts";
import { type Pipeline, setupPipeline } from "../testing/pipeline.ts";
import { exitStatus, type RunningProgram, startProgram, withLogTail } from "../testing/program.ts";
import { testEvent, testUser, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";

/** The smallest the worker accepts; heartbeats come every 3 s (a tenth of the session). */
const WATCHDOG_MS = 5_000;
/** Group ids tried for one whose coordinator is not the partition's leader. */
const GROUP_TRIES = 30;

Deno.test("a worker whose fetch hangs while it heartbeats is stopped by its watchdog", async () => {
  const stack = await privateStack({ prefix: "stall", brokers: 3, paths: ["worker"] });
  const net = stack.network!;
  let p: Pipeline | undefined;
  let worker: RunningProgram | undefined;
  try {
    p = await setupPipeline(stack.env, "w_stall", 1);
    const pipeline = p;
    const admin = new Admin(
      clientOptions(
        { clientId: "test", brokers: stack.env.KAFKA_BROKERS.split(","), summary: "" },
        "-stall",
      ),
    );
    let leader: number | undefined;
    let groupId: string | undefined;
    try {
      const meta = await admin.metadata({ topics: [p.topic], forceUpdate: true });
      leader = meta.topics.get(p.topic)?.partitions[0]?.leader;
      for (let i = 0; i < GROUP_TRIES && groupId === undefined; i++) {
        const candidate = `${p.groupId}_${i}`;
        const [found] = await admin.findCoordinator({ keyType: 0, keys: [candidate] });
        if (found !== undefined && found.nodeId >= 0 && found.nodeId !== leader) {
          groupId = candidate;
        }
      }
    } finally {
      await admin.close();
    }
    assert.ok(leader !== undefined && leader >= 0, "the partition has a leader");
    assert.ok(groupId, `a group coordinated by another broker than ${leader}`);

    worker = await startProgram("worker", {
      ...p.workerEnv,
      ...net.env("worker"),
      KAFKA_GROUP_ID: groupId,
      WORKER_WATCHDOG_MS: String(WATCHDOG_MS),
    });
    const t0 = Date.parse("2026-06-01T00:00:00.000Z");
    await p.kafka.produce(
      p.topic,
      Array.from({ length: 20 }, (_, i) => toMessage(testEvent(testUser(i), new Date(t0 + i)))),
    );
    await waitUntil(
      async () => (await pipeline.count()) === 20,
      60_000,
      "20 rows written before the leader's path goes silent",
    );

    await net.blackhole({ path: "worker", to: leader });
    const fired = await worker.waitForLog(
      (l) => typeof l.msg === "string" && l.msg.startsWith("watchdog:"),
      25_000,
      "the watchdog's line, within the client's 30 s request timeout",
    );
    assert.equal(
      fired.msg,
      `watchdog: no fetch or write for ${
        Math.floor(Number(fired.silentMs) / 1000)
      } s while owning 1 partition; heartbeats alone do not count`,
    );
    assert.equal(fired.partitions, 1);
    assert.ok(
      Number(fired.lastHeartbeatMsAgo) < WATCHDOG_MS,
      `it was still heartbeating: ${JSON.stringify(fired)}`,
    );
    const upTo = worker.logs.indexOf(fired);
    assert.deepEqual(
      worker.logs.slice(0, upTo).filter((l) => l.msg === "consumer stream failed, reopening it"),
      [],
      "the fetch still hung: the client had not given it up",
    );
    assert.equal((await exitStatus(worker, 30_000)).code, 1, "exit 1 for the supervisor");
    worker = undefined;
  } catch (err) {
    throw withLogTail(err, worker);
  } finally {
    await worker?.stop("SIGKILL");
    await net.healAll().catch(() => {});
    await p?.close();
    await stack.stop();
  }
});
