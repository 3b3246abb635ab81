/**
 * Upserts rows, isolating the ones the warehouse rejects.
 *
 * A permanent rejection (see `write_error.ts`) of a multi-row write says only that some row is
 * bad. The rows are split in halves, recursively, until each rejected row stands alone: the
 * good rows are written (in smaller transactions) and the bad ones are returned to be
 * dead-lettered. k bad rows among n cost about 2·k·log2(n) extra transactions.
 */
import type { Sink } from "../warehouse/port.ts";
import type { UserRow } from "../warehouse/user_row.ts";
import { decide } from "../failure.ts";
import { toWriteError, type WriteError } from "../warehouse/write_error.ts";

/** What `upsertIsolating` did. */
export interface IsolatedWrite<T> {
  /** Rows committed. */
  written: number;
  /** Of those, rows the warehouse left as they were: its stored row was as new or newer. */
  stale: number;
  /** Items whose row the warehouse refused, each with the error it gave alone. */
  rejected: { item: T; error: WriteError }[];
}

/**
 * Writes the rows of `items`; returns the rejected ones.
 * @throws {WriteError} with action `retry` when the warehouse is unavailable: nothing more
 * is written then, and the caller must not commit offsets.
 */
export async function upsertIsolating<T>(
  items: readonly T[],
  rowOf: (item: T) => UserRow,
  sink: Sink,
): Promise<IsolatedWrite<T>> {
  const result: IsolatedWrite<T> = { written: 0, stale: 0, rejected: [] };
  const write = async (part: readonly T[]): Promise<void> => {
    if (part.length === 0) return;
    try {
      const { stale } = await sink.upsert(part.map(rowOf));
      result.written += part.length;
      result.stale += stale;
    } catch (err) {
      const error = toWriteError(err);
      if (decide(error).action !== "isolate") throw error;
      if (part.length === 1) {
        result.rejected.push({ item: part[0]!, error });
        return;
      }
      const half = Math.ceil(part.length / 2);
      await write(part.slice(0, half));
      await write(part.slice(half));
    }
  };
  await write(items);
  return result;
}
