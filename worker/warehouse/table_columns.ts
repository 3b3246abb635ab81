/**
 * The columns of the warehouse table `users`, in table order: the one list both dialects build
 * their DDL and statements from. `terraform/table_schema.sql` declares the same (a test fails
 * when the two drift).
 *
 * Widths are in bytes (Redshift's `VARCHAR(n)` counts bytes) and derive from `LIMITS`, which
 * counts characters: UTF-8 takes at most 4 bytes per code point, so a text column is 4 times
 * its limit wide and any value validation accepts fits it.
 */
import { LIMITS } from "../../shared/event.ts";

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
/** The most bytes UTF-8 takes for one code point. */
export const MAX_UTF8_BYTES_PER_CHARACTER = 4;

/** A column for the text field `name`, wide enough in bytes for `LIMITS[name]` characters. */
const text = (name: Exclude<keyof typeof LIMITS, "id">, nullable: boolean): Column =>
  varchar(name, LIMITS[name] * MAX_UTF8_BYTES_PER_CHARACTER, nullable);

const timestamptz = (name: string, nullable: boolean): Column => ({
  name,
  type: { kind: "timestamptz" },
  nullable,
});

/** Columns that come from the event (staged for every batch), in table order. */
export const EVENT_COLUMNS: readonly Column[] = [
  // A UUID: hexadecimal digits and hyphens, one byte each.
  varchar("id", LIMITS.id, false),
  text("first_name", false),
  text("last_name", false),
  text("gender", true),
  text("address", true),
  text("post_code", true),
  text("email", false),
  text("username", true),
  timestamptz("dob", true),
  timestamptz("registered_date", true),
  text("phone", true),
  text("picture", true),
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
