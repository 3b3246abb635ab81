/** The fault suite's results as a Markdown table. */
import type { ScenarioResult } from "./fault_run.ts";

/** Renders `results` as a Markdown table (one line per scenario). */
export function resultsTable(results: readonly ScenarioResult[]): string {
  const head = [
    "scenario",
    "events accepted",
    "rows found",
    "lost",
    "duplicated",
    "dead-lettered",
    "stale",
    "acked not in topic",
    "offset checks (violations)",
    "offsets moved back",
    "indeterminate",
    "during the fault: s, requests acked, records committed",
    "recovery (s)",
    "joins after fault",
    "warn/error log lines",
  ];
  const lines = results.map((r) => [
    r.scenario,
    String(r.accepted),
    String(r.rows),
    String(r.lost),
    String(r.duplicated),
    String(r.deadLettered),
    String(r.stale + r.failedWritten),
    String(r.notInTopic.length),
    `${r.offsetsVerified} (${r.offsetViolations.length})`,
    String(r.offsetsMovedBack.length),
    String(r.indeterminate),
    `${r.duringFault.seconds}, ${r.duringFault.acked}, ${r.duringFault.committed}`,
    r.recoverySeconds === null ? "n/a" : r.recoverySeconds.toFixed(1),
    String(r.joinsAfterFault),
    String(Object.values(r.complaints).reduce((a, b) => a + b, 0)),
  ]);
  return [head, head.map(() => "---"), ...lines].map((l) => `| ${l.join(" | ")} |`).join("\n");
}

/** True when a result shows no lost, doubled, stale or refused-but-written event, no offset
 * ahead of the warehouse and none moved back. */
export function passed(r: ScenarioResult): boolean {
  return r.lost === 0 && r.duplicated === 0 && r.stale === 0 && r.failedWritten === 0 &&
    r.offsetViolations.length === 0 && r.offsetsMovedBack.length === 0 &&
    r.notInTopic.length === 0 &&
    r.notes.every((n) => !n.startsWith("not drained")) && r.unmet.length === 0;
}
