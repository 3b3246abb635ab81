/**
 * What the console needs of the warehouse: the row of one user, read-only. `warehouse_reader.ts`
 * implements it on postgres.js; tests use a fake.
 */

/** The parts of a `users` row that tell which event wrote it and when. */
export interface WarehouseRow {
  id: string;
  event_id: string;
  source: string;
  /** The winning event's `accepted_at` (ISO-8601). */
  event_time: string;
  /** When the row was first written (ISO-8601). */
  date_added: string;
  /** When it was last written (ISO-8601). */
  updated_at: string;
}

/** The console's view of the warehouse. */
export interface WarehouseSource {
  /**
   * The row of user `id`, or undefined when there is none (or the table does not exist yet).
   * @throws {Error} when the warehouse cannot be reached.
   */
  row(id: string): Promise<WarehouseRow | undefined>;
  close(): Promise<void>;
}
