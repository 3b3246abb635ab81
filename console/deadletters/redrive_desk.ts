/**
 * Re-drive from the console: one record, a group (one stage, one exact reason) or all, always
 * as a dry-run count first. The count answers with a confirmation id; only a run that brings
 * it back (within 5 minutes, for the same filter) moves anything. The moving itself is
 * `runRedrive` (`shared/redrive/`), the same code and the same consumer group per filter as
 * `deno task redrive`; one re-drive runs at a time.
 */
import { type RedriveFilter, redriveGroupId } from "../../shared/redrive/redrive_filter.ts";
import type { RedriveResult } from "../../shared/redrive/run_redrive.ts";

/** What to re-drive. */
export type RedriveScope =
  | { scope: "all" }
  | { scope: "group"; group: string }
  | { scope: "record"; partition: number; offset: string };

/** Runs `runRedrive` with the console's connection and topics. */
export type RedriveRunner = (
  opts: { groupId: string; filter: RedriveFilter; dryRun: boolean },
) => Promise<RedriveResult>;

/** A refused request: the status to answer with and why. */
export class RedriveRefusal extends Error {
  override name = "RedriveRefusal";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** What a request gets back. */
export interface RedriveAnswer extends RedriveResult {
  dryRun: boolean;
  /** The re-drive's consumer group (shared with `deno task redrive` for the same filter). */
  groupId: string;
  /** After a dry run: the id that confirms the real run. */
  confirm?: string;
}

/** The desk. */
export interface RedriveDesk {
  /**
   * A dry run (count) or, with the confirmation id of one, the run.
   * @throws {RedriveRefusal} 404 for an unknown group, 409 while another re-drive runs, 428
   *   without a valid confirmation.
   */
  request(scope: RedriveScope, opts: { dryRun: boolean; confirm?: string }): Promise<RedriveAnswer>;
}

/** Creates the desk. */
export function createRedriveDesk(deps: {
  run: RedriveRunner;
  workerGroupId: string;
  /** The stage and reason of a group id, from the dead letters as last read. */
  findGroup: (id: string) => Promise<{ stage: string; reason: string } | undefined>;
  now?: () => number;
  confirmTtlMs?: number;
}): RedriveDesk {
  const now = deps.now ?? Date.now;
  const ttl = deps.confirmTtlMs ?? 5 * 60_000;
  const confirmations = new Map<string, { groupId: string; expires: number }>();
  let busy = false;

  const filterOf = async (scope: RedriveScope): Promise<RedriveFilter> => {
    switch (scope.scope) {
      case "all":
        return { stages: [], reasonContains: "" };
      case "group": {
        const g = await deps.findGroup(scope.group);
        if (!g) throw new RedriveRefusal(404, "No such group among the dead letters read");
        return { stages: [g.stage], reasonContains: "", reasonIs: g.reason };
      }
      case "record":
        return { stages: [], reasonContains: "", records: [`${scope.partition}/${scope.offset}`] };
    }
  };

  return {
    async request(scope, opts) {
      const filter = await filterOf(scope);
      const groupId = redriveGroupId(deps.workerGroupId, filter);
      if (!opts.dryRun) {
        for (const [id, c] of confirmations) if (c.expires < now()) confirmations.delete(id);
        const c = opts.confirm === undefined ? undefined : confirmations.get(opts.confirm);
        if (!c || c.groupId !== groupId) {
          throw new RedriveRefusal(
            428,
            "Count first: a re-drive needs the confirmation of a dry run",
          );
        }
      }
      if (busy) throw new RedriveRefusal(409, "Another re-drive is running");
      busy = true;
      try {
        const result = await deps.run({ groupId, filter, dryRun: opts.dryRun });
        if (!opts.dryRun) {
          confirmations.delete(opts.confirm!);
          return { ...result, dryRun: false, groupId };
        }
        const confirm = crypto.randomUUID();
        confirmations.set(confirm, { groupId, expires: now() + ttl });
        while (confirmations.size > 100) confirmations.delete(confirmations.keys().next().value!);
        return { ...result, dryRun: true, groupId, confirm };
      } finally {
        busy = false;
      }
    },
  };
}
