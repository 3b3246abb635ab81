/**
 * The columns of the warehouse table `users`, in table order: the one list both dialects build
 * their DDL and statements from. `terraform/table_schema.sql` declares the same (a test fails
 * when the two drift).
 *
 * Widths are in bytes (Redshift's `VARCHAR(n)` counts bytes) and derive from `LIMITS`, which
 * counts characters: UTF-8 takes at most 4 bytes per code point, so a text column is 4 times
 * its limit wide and any value validation accepts fits it.
 */
import { FIELD_SINCE, LIMITS, SCHEMA_VERSION, type SchemaVersion } from "../../shared/event.ts";

/** One column: its name, SQL type, whether it may be null, and the version that added it. */
export interface Column {
  name: string;
  /** `varchar` with a width in bytes, or `timestamptz`. */
  type: { kind: "varchar"; bytes: number } | { kind: "timestamptz" };
  nullable: boolean;
  /** The event's `schema_version` that added the column (1: the first table). */
  since: SchemaVersion;
}

/** The version that added user field `name` (1 for the envelope's and the write's columns). */
const sinceOf = (name: string): SchemaVersion => FIELD_SINCE[name as keyof typeof FIELD_SINCE] ?? 1;

const varchar = (name: string, bytes: number, nullable: boolean): Column => ({
  name,
  type: { kind: "varchar", bytes },
  nullable,
  since: sinceOf(name),
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
  since: sinceOf(name),
});

/**
 * Columns that come from the event, oldest version first: a row of version N sets the first
 * `eventColumns(N).length` of them (`user_row.ts`). A version's new columns go last, and they
 * are nullable: a row first written by an older event has them NULL.
 */
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
  // Version 2: the two-letter code is ASCII, one byte per character.
  varchar("nat", LIMITS.nat, true),
  text("cell", true),
];

/** The event columns a row of `version` sets: the first ones, up to that version's. */
export function eventColumns(version: SchemaVersion): readonly Column[] {
  return version === SCHEMA_VERSION
    ? EVENT_COLUMNS
    : EVENT_COLUMNS.filter((c) => c.since <= version);
}

/** The event columns of a row `width` values wide (a prefix of `EVENT_COLUMNS`). */
export function columnsOfWidth(width: number): readonly Column[] {
  return width === EVENT_COLUMNS.length ? EVENT_COLUMNS : EVENT_COLUMNS.slice(0, width);
}

// A version's columns must follow the older ones', or a row could not be a prefix.
EVENT_COLUMNS.forEach((c, i) => {
  if (i > 0 && c.since < EVENT_COLUMNS[i - 1]!.since) {
    throw new Error(`EVENT_COLUMNS: ${c.name} (version ${c.since}) comes after a newer column`);
  }
});

/** Columns the merge sets from the write time, not from the event. */
export const WRITE_COLUMNS: readonly Column[] = [
  timestamptz("date_added", false),
  timestamptz("updated_at", false),
];

/**
 * Every column of `users`, in table order: the first version's, the write times, then each
 * later version's, as `ALTER TABLE … ADD COLUMN` appends them to an existing table (a table
 * created new has the same order).
 */
export const TABLE_COLUMNS: readonly Column[] = [
  ...EVENT_COLUMNS.filter((c) => c.since === 1),
  ...WRITE_COLUMNS,
  ...EVENT_COLUMNS.filter((c) => c.since > 1),
];

/** The primary key (also Redshift's DISTKEY and SORTKEY). */
export const KEY_COLUMN = "id";
