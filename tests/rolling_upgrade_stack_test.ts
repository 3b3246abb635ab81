/**
 * A rolling upgrade in the wrong order, with the real programs: the worker of the release
 * before event version 2 (checked out from the repository's history, as `bench --baseline`
 * runs an older revision) meets the new ingest producing version 2. It must hold the
 * partitions where version 2 starts, with the named reason in `/readyz`, and dead-letter
 * nothing; the new worker then takes over and every event becomes a row, with `nat` and
 * `cell`, none applied twice.
 */
import assert from "node:assert/strict";
import { checkoutRevision, type RevisionTree } from "../bench/revision_tree.ts";
import { appliedTwice, installAppliedLog } from "../faults/applied_log.ts";
import type { UserInput } from "../shared/event.ts";
import { sharedStack } from "../stack/harness.ts";
import { setupPipeline } from "../testing/pipeline.ts";
import { complaints, type RunningProgram, startProgram } from "../testing/program.ts";
import { sampleUser } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";
import { signedRequest, TEST_SECRET } from "../testing/webhook.ts";

/**
 * The release before event version 2: its workers know version 1 only, and hold a partition
 * at a record of a newer version ("worker: a record of a newer schema_version holds its
 * partition instead of becoming a dead letter").
 */
const RELEASE_BEFORE_V2 = "1e5aa49";

const ROOT = new URL("..", import.meta.url).pathname;
const NATIONALITIES = ["AU", "BR", "CA", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE"];

Deno.test("rolling upgrade, ingest first: the old worker holds version 2 and dead-letters nothing; the new worker writes every event once", async () => {
  let tree: RevisionTree;
  try {
    tree = await checkoutRevision(ROOT, RELEASE_BEFORE_V2);
  } catch (err) {
    throw new Error(
      `This test runs the worker of ${RELEASE_BEFORE_V2} and needs the repository's history ` +
        `(a shallow clone has none: git fetch --unshallow): ${(err as Error).message}`,
    );
  }
  const p = await setupPipeline(await sharedStack(), "rolling", 6);
  const programs: RunningProgram[] = [];
  try {
    const old = await Deno.readTextFile(`${tree.dir}/shared/event.ts`);
    assert.match(old, /export const SCHEMA_VERSION = 1;/, "the old worker knows version 1 only");
    const env = { ...p.workerEnv, WORKER_SESSION_TIMEOUT_MS: "10000", WORKER_PORT: "0" };
    const oldWorker = await startProgram("worker", env, { root: tree.dir });
    programs.push(oldWorker);
    await oldWorker.waitForLog((l) => l.msg === "joined group", 60_000, "the old worker to join");
    // The old worker made the table as version 1 knows it; the log of applied rows beside it.
    await installAppliedLog(p.sql, p.schema);
    const ingest = await startProgram("ingest", {
      KAFKA_BROKERS: p.workerEnv.KAFKA_BROKERS!,
      KAFKA_TOPIC: p.topic,
      INGEST_PORT: "0",
      INGEST_HOST: "127.0.0.1",
      WEBHOOK_SECRET: TEST_SECRET,
      PULL_ENABLED: "false",
    });
    programs.push(ingest);
    const post = async (users: UserInput[]) => {
      const body = JSON.stringify(users);
      const response = await fetch(`http://127.0.0.1:${ingest.port}/v1/users`, {
        method: "POST",
        headers: (await signedRequest(body)).headers,
        body,
      });
      assert.equal(response.status, 202, await response.text());
    };

    // Version 1 first: the old worker writes it.
    const v1 = Array.from({ length: 120 }, (_, i) => sampleUser(700_000 + i));
    await post(v1);
    await waitUntil(async () => (await p.count()) === v1.length, 60_000, "the version-1 rows");
    // Then version 2 (new users, and a newer version of some old ones), then version 1 again
    // for some of those: the last one leaves nat and cell as version 2 set them.
    const v2 = [
      ...Array.from({ length: 240 }, (_, i) =>
        sampleUser(710_000 + i, {
          nat: NATIONALITIES[i % NATIONALITIES.length]!,
          cell: `+41 79 ${String(i).padStart(3, "0")} 00 00`,
        })),
      ...v1.slice(0, 30).map((u, i) => ({ ...u, last_name: "v2", nat: "NZ", cell: `cell ${i}` })),
    ];
    await post(v2);
    const later = v1.slice(0, 10).map((u) => ({ ...u, last_name: "v1 after v2" }));
    await post(later);

    // The old worker holds the partitions where version 2 starts, says why, and dead-letters
    // nothing.
    const readyz = async (w: RunningProgram) => {
      const r = await fetch(`http://127.0.0.1:${w.port}/readyz`);
      return { status: r.status, body: await r.json() as { ok: boolean; problem?: string } };
    };
    await waitUntil(
      async () => (await readyz(oldWorker)).status === 503,
      60_000,
      "the old worker's /readyz to report the hold",
    );
    const held = await readyz(oldWorker);
    assert.match(
      held.body.problem ?? "",
      /^schema_version 2 is newer than this worker \(it knows 1 to 1\); upgrade the workers \(partitions held at partition@offset: /,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${oldWorker.port}/metrics`)).text();
    assert.match(metrics, /^worker_partitions_held [1-9]/m);
    assert.match(metrics, /^worker_records_held_total [1-9]/m);
    const noDeadLetters = async () =>
      assert.ok((await p.kafka.admin.endOffsets(p.dlq)).every((o) => o === 0n), "no dead letter");
    await noDeadLetters();
    assert.ok(!(await p.caughtUp()), "the held offsets are not committed");

    // The upgrade: a new worker joins, the old one leaves; the new one goes on from the holds.
    const newWorker = await startProgram("worker", env);
    programs.push(newWorker);
    await newWorker.waitForLog((l) => l.msg === "joined group", 60_000, "the new worker to join");
    assert.equal((await oldWorker.stop("SIGTERM")).code, 0, "the old worker leaves cleanly");
    const users = new Set([...v1, ...v2].map((u) => u.id!));
    await waitUntil(
      async () => (await p.count()) === users.size && (await p.caughtUp()),
      90_000,
      `${users.size} rows and every offset committed`,
    );

    // Every event is a row as its version says; none applied twice; still no dead letter.
    const rows = new Map(
      (await p.sql.unsafe(`SELECT id, last_name, nat, cell FROM ${p.schema}.users`)).map((
        r,
      ) => [r.id as string, { last_name: r.last_name, nat: r.nat, cell: r.cell }]),
    );
    const expected = new Map<
      string,
      { last_name: string; nat: string | null; cell: string | null }
    >();
    for (const u of [...v1, ...v2, ...later]) {
      const before = expected.get(u.id!);
      expected.set(u.id!, {
        last_name: u.last_name,
        // A version-1 event leaves what version 2 set.
        nat: u.nat !== undefined ? u.nat : before?.nat ?? null,
        cell: u.cell !== undefined ? u.cell : before?.cell ?? null,
      });
    }
    assert.equal(rows.size, expected.size);
    for (const [id, want] of expected) {
      assert.deepEqual(rows.get(id), want, `${id}: ${JSON.stringify(rows.get(id))}`);
    }
    assert.deepEqual(
      new Set([...rows.values()].flatMap((r) => r.nat ? [r.nat] : [])),
      new Set([...NATIONALITIES, "NZ"]),
      "every nationality arrived",
    );
    assert.deepEqual(await appliedTwice(p.sql, p.schema), []);
    await noDeadLetters();
    assert.ok(
      newWorker.logs.some((l) =>
        l.msg === "added the columns of a newer event version to the table"
      ),
      "the new worker added nat and cell",
    );
    assert.equal((await readyz(newWorker)).status, 200);
    assert.deepEqual(complaints(newWorker.logs), [], "the new worker logged nothing at warn");
    // The old worker warned once per partition it held, and nothing else.
    assert.deepEqual(
      [...new Set(complaints(oldWorker.logs).map((l) => l.msg))],
      ["partition held: a record's schema_version is newer than this worker"],
    );
  } finally {
    for (const w of programs) await w.stop("SIGKILL");
    await p.close();
    await tree.remove();
  }
});
