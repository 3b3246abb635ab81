/**
 * The port the warehouse stage offers: where the batch stage puts rows. `sink.ts` implements it
 * on PostgreSQL and Redshift; tests use the fake in `testing/fakes.ts`.
 */
import type { UserRow } from "./user_row.ts";

/** Where valid rows go. */
export interface Sink {
  /**
   * Upserts `rows` (at most one per id).
   * @throws {WriteError} saying whether the write may be retried.
   */
  upsert(rows: readonly UserRow[]): Promise<Upserted>;
}

/** What an upsert came to. */
export interface Upserted {
  /**
   * Rows the warehouse left as they were because its stored row is as new or newer: an older
   * event arriving late, or one delivered again.
   */
  stale: number;
}

/** A sink that can also prepare its table and be closed. */
export interface WarehouseSink extends Sink {
  /** Creates the schema and table if missing (idempotent). @throws {WriteError} */
  ensureTable(): Promise<void>;
  /** True when a trivial query answers. */
  ping(): Promise<boolean>;
}
