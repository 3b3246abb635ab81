/**
 * The ledger of a fault run: what the load generator sent and what the ingest answered, per
 * user version, and the checks of the warehouse against it.
 *
 * Every request is filed as `acknowledged` (2xx), `failed` (a definite 4xx) or `indeterminate`
 * (timeout, 5xx, reset, refused): an indeterminate version may or may not be in the warehouse.
 * A user's versions are sent one at a time (never two requests for one user in flight), so a
 * later version always gets a later `accepted_at` and must win in the warehouse.
 */

/** How the ingest answered a request. */
export type Outcome = "acknowledged" | "failed" | "indeterminate";

/** What the ledger knows of one user id. */
export interface UserEntry {
  /** Highest version the ingest acknowledged (-1: none). */
  maxAcked: number;
  /** Every version sent and not refused (acknowledged or indeterminate). */
  possible: Set<number>;
  /** Every acknowledged version. */
  acked: Set<number>;
  /** True when every request that carried this user was refused (4xx). */
  onlyFailed: boolean;
}

/** A row of the warehouse as the checks read it. */
export interface WarehouseRow {
  id: string;
  version: number;
}

/** What `checkLedger` found. */
export interface LedgerCheck {
  /** Events (user versions) acknowledged. */
  accepted: number;
  /** Distinct user ids with an acknowledged version. */
  ackedUsers: number;
  /** Rows found for ids of this run. */
  rows: number;
  /** Acknowledged users neither in the warehouse nor dead-lettered. */
  lost: string[];
  /** Ids with more than one row. */
  duplicated: string[];
  /** Acknowledged users that are dead letters instead of rows. */
  deadLettered: number;
  /** Rows of users whose every request was refused. */
  failedButWritten: string[];
  /** Rows holding an older version than one acknowledged, or a version never sent. */
  stale: { id: string; row: number; acked: number }[];
  counts: Record<Outcome, number>;
}

/** The ledger itself. */
export class Ledger {
  readonly users = new Map<string, UserEntry>();
  readonly counts: Record<Outcome, number> = { acknowledged: 0, failed: 0, indeterminate: 0 };

  /** Files one request's users (`[id, version]`) under `outcome`. */
  file(outcome: Outcome, versions: readonly (readonly [string, number])[]): void {
    this.counts[outcome] += versions.length;
    for (const [id, version] of versions) {
      let entry = this.users.get(id);
      if (!entry) {
        entry = { maxAcked: -1, possible: new Set(), acked: new Set(), onlyFailed: true };
        this.users.set(id, entry);
      }
      if (outcome === "failed") continue;
      entry.onlyFailed = false;
      entry.possible.add(version);
      if (outcome === "acknowledged") {
        entry.maxAcked = Math.max(entry.maxAcked, version);
        entry.acked.add(version);
      }
    }
  }
}

/** The version a row carries (the load writes it into `last_name` as ` v<n>`). */
export function versionOf(lastName: string): number {
  const m = / v(\d+)$/.exec(lastName);
  return m ? Number(m[1]) : -1;
}

/** Checks the warehouse rows and dead-lettered ids against the ledger. */
export function checkLedger(
  ledger: Ledger,
  rows: readonly WarehouseRow[],
  deadLetteredIds: ReadonlySet<string>,
): LedgerCheck {
  const byId = new Map<string, number[]>();
  for (const r of rows) {
    if (!ledger.users.has(r.id)) continue;
    const list = byId.get(r.id) ?? [];
    list.push(r.version);
    byId.set(r.id, list);
  }
  const result: LedgerCheck = {
    accepted: ledger.counts.acknowledged,
    ackedUsers: 0,
    rows: 0,
    lost: [],
    duplicated: [],
    deadLettered: 0,
    failedButWritten: [],
    stale: [],
    counts: { ...ledger.counts },
  };
  for (const [id, versions] of byId) {
    result.rows += versions.length;
    if (versions.length > 1) result.duplicated.push(id);
  }
  for (const [id, entry] of ledger.users) {
    const found = byId.get(id);
    if (entry.onlyFailed) {
      if (found) result.failedButWritten.push(id);
      continue;
    }
    if (entry.maxAcked >= 0) result.ackedUsers++;
    if (!found) {
      if (entry.maxAcked < 0) continue; // only indeterminate: may be absent
      if (deadLetteredIds.has(id)) result.deadLettered++;
      else result.lost.push(id);
      continue;
    }
    for (const v of found) {
      if (v < entry.maxAcked || !entry.possible.has(v)) {
        result.stale.push({ id, row: v, acked: entry.maxAcked });
      }
    }
  }
  return result;
}

/**
 * Acknowledged versions that are not in the topic at all (`seen` holds `id:version` of every
 * record read from it): a loss in Kafka that the per-user check cannot see when a later
 * version of the same user arrived.
 */
export function ackedNotInTopic(ledger: Ledger, seen: ReadonlySet<string>): string[] {
  const missing: string[] = [];
  for (const [id, entry] of ledger.users) {
    for (const v of entry.acked) if (!seen.has(`${id}:${v}`)) missing.push(`${id}:${v}`);
  }
  return missing;
}
