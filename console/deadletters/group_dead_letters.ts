/**
 * Dead letters grouped by stage and reason, with counts, and the records of one group newest
 * first, a page at a time.
 */
import type { DeadLetterInfo } from "./dead_letter.ts";

/** One group: every dead letter with this stage and exactly this reason. */
export interface DeadLetterGroup {
  /** A stable id for the page to name the group by (a hash of stage and reason). */
  id: string;
  stage: string;
  reason: string;
  count: number;
  /** The newest and oldest dead-lettering time in the group, ms since the epoch. */
  newest: number;
  oldest: number;
}

/** The id of the group of `stage` and `reason`. */
export function groupId(stage: string, reason: string): string {
  // FNV-1a 64-bit over stage, NUL, reason: short, stable, no need to echo the reason back.
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(`${stage}\u0000${reason}`)) {
    h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  }
  return h.toString(16).padStart(16, "0");
}

/** The groups of `letters`, largest first (then newest first). */
export function groupDeadLetters(letters: readonly DeadLetterInfo[]): DeadLetterGroup[] {
  const groups = new Map<string, DeadLetterGroup>();
  for (const l of letters) {
    const id = groupId(l.stage, l.reason);
    const g = groups.get(id);
    if (!g) {
      groups.set(id, {
        id,
        stage: l.stage,
        reason: l.reason,
        count: 1,
        newest: l.time,
        oldest: l.time,
      });
    } else {
      g.count++;
      g.newest = Math.max(g.newest, l.time);
      g.oldest = Math.min(g.oldest, l.time);
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.newest - a.newest);
}

/** One page of a group's dead letters, newest first. */
export interface DeadLetterPage {
  items: DeadLetterInfo[];
  page: number;
  pages: number;
  total: number;
}

/** Page `page` (from 0) of the dead letters of group `id`, newest first, `size` per page. */
export function pageOfGroup(
  letters: readonly DeadLetterInfo[],
  id: string,
  page: number,
  size: number,
): DeadLetterPage {
  const inGroup = letters.filter((l) => groupId(l.stage, l.reason) === id).sort((a, b) =>
    b.time - a.time || b.partition - a.partition || (b.offset > a.offset ? 1 : -1)
  );
  const pages = Math.max(1, Math.ceil(inGroup.length / size));
  const at = Math.min(Math.max(0, page), pages - 1);
  return {
    items: inGroup.slice(at * size, at * size + size),
    page: at,
    pages,
    total: inGroup.length,
  };
}
