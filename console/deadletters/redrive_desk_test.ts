import assert from "node:assert/strict";
import type { RedriveFilter } from "../../shared/redrive/redrive_filter.ts";
import { createRedriveDesk, RedriveRefusal } from "./redrive_desk.ts";

function desk() {
  const runs: { groupId: string; filter: RedriveFilter; dryRun: boolean }[] = [];
  let hold: Promise<void> | undefined;
  const d = createRedriveDesk({
    run: async (opts) => {
      runs.push(opts);
      await hold;
      return { moved: 2, skipped: 1 };
    },
    workerGroupId: "w",
    findGroup: (id) =>
      Promise.resolve(
        id === "00000000000000aa" ? { stage: "schema", reason: "bad email" } : undefined,
      ),
  });
  return { d, runs, setHold: (p: Promise<void> | undefined) => (hold = p) };
}

const refused = (status: number) => (err: unknown) =>
  err instanceof RedriveRefusal && err.status === status;

Deno.test("a re-drive moves nothing without the confirmation of a dry run of the same filter", async () => {
  const { d, runs } = desk();
  await assert.rejects(d.request({ scope: "all" }, { dryRun: false }), refused(428));
  const dry = await d.request({ scope: "group", group: "00000000000000aa" }, { dryRun: true });
  assert.deepEqual({ ...dry, confirm: typeof dry.confirm }, {
    moved: 2,
    skipped: 1,
    dryRun: true,
    groupId: runs[0]!.groupId,
    confirm: "string",
  });
  assert.deepEqual(runs[0]!.filter, {
    stages: ["schema"],
    reasonContains: "",
    reasonIs: "bad email",
  });
  assert.match(runs[0]!.groupId, /^w-redrive-schema,reason_is=[0-9a-f]{8}$/);
  await assert.rejects(
    d.request({ scope: "all" }, { dryRun: false, confirm: dry.confirm! }),
    refused(428),
    "the confirmation of another filter",
  );
  const done = await d.request({ scope: "group", group: "00000000000000aa" }, {
    dryRun: false,
    confirm: dry.confirm!,
  });
  assert.equal(done.dryRun, false);
  assert.deepEqual(runs.map((r) => r.dryRun), [true, false]);
  await assert.rejects(
    d.request({ scope: "group", group: "00000000000000aa" }, {
      dryRun: false,
      confirm: dry.confirm!,
    }),
    refused(428),
    "a confirmation is used once",
  );
});

Deno.test("a re-drive of one record names it; an unknown group is 404; one re-drive at a time", async () => {
  const { d, runs, setHold } = desk();
  await d.request({ scope: "record", partition: 1, offset: "7" }, { dryRun: true });
  assert.deepEqual(runs[0]!.filter, { stages: [], reasonContains: "", records: ["1/7"] });
  await assert.rejects(
    d.request({ scope: "group", group: "00000000000000bb" }, { dryRun: true }),
    refused(404),
  );
  const { promise, resolve } = Promise.withResolvers<void>();
  setHold(promise);
  const first = d.request({ scope: "all" }, { dryRun: true });
  await assert.rejects(d.request({ scope: "all" }, { dryRun: true }), refused(409));
  resolve();
  await first;
});
