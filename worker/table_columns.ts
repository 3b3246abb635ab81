/**
 * The columns of the warehouse table `users`, in table order: the one list both dialects build
 * their DDL and statements from. `terraform/table_schema.sql` declares the same (a test fails
 * when the two drift).
 */
import { LIMITS } from "../shared/event.ts";

/** One column: its name, SQL type and whether it may be null. */
export interface Column {
  name: string;
  /** `varchar` with a width in bytes, or `timestamptz`. */
  type: { kind: "varchar"; bytes: number } | { kind: "timestamptz" };
  nullable: boolean;
}

const varchar = (name: string, bytes: number, nullable: boolean): Column => ({
  name,
  type: { kind: "varchar", bytes },
  nullable,
});
const timestamptz = (name: string, nullable: boolean): Column => ({
  name,
  type: { kind: "timestamptz" },
  nullable,
});

/** Columns that come from the event (staged for every batch), in table order. */
export const EVENT_COLUMNS: readonly Column[] = [
  varchar("id", LIMITS.id, false),
  varchar("first_name", LIMITS.first_name, false),
  varchar("last_name", LIMITS.last_name, false),
  varchar("gender", LIMITS.gender, true),
  varchar("address", LIMITS.address, true),
  varchar("post_code", LIMITS.post_code, true),
  varchar("email", LIMITS.email, false),
  varchar("username", LIMITS.username, true),
  timestamptz("dob", true),
  timestamptz("registered_date", true),
  varchar("phone", LIMITS.phone, true),
  varchar("picture", LIMITS.picture, true),
  varchar("source", 16, false),
  varchar("event_id", 36, false),
  timestamptz("event_time", false),
];

/** Columns the merge sets from the write time, not from the event. */
export const WRITE_COLUMNS: readonly Column[] = [
  timestamptz("date_added", false),
  timestamptz("updated_at", false),
];

/** Every column of `users`, in table order. */
export const TABLE_COLUMNS: readonly Column[] = [...EVENT_COLUMNS, ...WRITE_COLUMNS];

/** The primary key (also Redshift's DISTKEY and SORTKEY). */
export const KEY_COLUMN = "id";
