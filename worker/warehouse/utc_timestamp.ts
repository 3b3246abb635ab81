/**
 * How the worker writes a timestamp for COPY and INSERT: in UTC, `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`,
 * with a four-digit year in 0001..9999.
 *
 * The event keeps the sender's offset (`1990-04-01T12:00:00+02:00`), but the warehouse must
 * not be asked to read it: PostgreSQL refuses offsets of 16 hours or more (RFC 3339 allows up
 * to 23:59), and `Date.prototype.toISOString()` writes years past 9999 as `+010000-…`, which
 * PostgreSQL refuses too. Both warehouses store microseconds: more digits are cut, not rounded,
 * so that `9999-12-31T23:59:59.9999999Z` cannot round into year 10000.
 */

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:Z|([+-])(\d\d):(\d\d))$/;
/** Already what the warehouse is given: UTC, at most microseconds. */
const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z$/;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * `s` (an RFC 3339 date-time, as `shared/event.ts` validates it) in UTC.
 * @throws {RangeError} when `s` is not an RFC 3339 date-time with an offset, or its instant in
 * UTC lies outside years 0001..9999 (which validation refuses first).
 * @example
 * ```ts
 * toUtcTimestamp("0001-01-01T00:30:00-01:00"); // "0001-01-01T01:30:00Z"
 * ```
 */
export function toUtcTimestamp(s: string): string {
  if (CANONICAL.test(s) && s.slice(0, 4) !== "0000") return s;
  const m = RFC3339.exec(s);
  if (!m) throw new RangeError(`Cannot write timestamp "${s.slice(0, 40)}": not RFC 3339`);
  const [, year, month, day, hours, minutes, seconds, fraction, sign, offsetH, offsetM] = m;
  const local = new Date(0);
  // setUTCFullYear, unlike Date.UTC, takes years 0..99 as they are (not as 1900..1999).
  local.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  local.setUTCHours(Number(hours), Number(minutes), Number(seconds));
  const offset = sign ? (sign === "-" ? -1 : 1) * (Number(offsetH) * 60 + Number(offsetM)) : 0;
  const utc = new Date(local.getTime() - offset * 60_000);
  const y = utc.getUTCFullYear();
  if (!(y >= 1 && y <= 9999)) {
    throw new RangeError(
      `Cannot write timestamp "${
        s.slice(0, 40)
      }": year ${y} in UTC, the warehouse takes 0001..9999`,
    );
  }
  return `${pad(y, 4)}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())}T` +
    `${pad(utc.getUTCHours())}:${pad(utc.getUTCMinutes())}:${pad(utc.getUTCSeconds())}` +
    `${fraction ? `.${fraction.slice(0, 6)}` : ""}Z`;
}
