/**
 * The `user_created` event: the single source of truth for what a user record is.
 *
 * A Kafka message's value is a JSON envelope (UTF-8), keyed by `user.id`:
 *
 * ```json
 * { "schema_version": 1, "event_id": "…uuid…", "source": "webhook",
 *   "accepted_at": "2026-11-24T10:00:00.000Z", "user": { "id": "…", "first_name": "…", … } }
 * ```
 *
 * The envelope travels inside the value (not only in headers) so that a record is complete on
 * its own: re-driven dead letters and replays keep their original event id and time, and the
 * warehouse can refuse an older event over a newer row.
 *
 * Text limits count characters (Unicode code points), as JSON Schema's `maxLength` does, so the
 * published contract (`GET /openapi.json`) and this validation agree; the warehouse's columns are
 * four times as wide in bytes (see `worker/warehouse/table_columns.ts`), so a value that passes validation
 * also fits its column. The rules `maxLength` cannot say (not blank, no U+0000, no lone
 * surrogate, the shapes of an e-mail address, a picture URL and a timestamp) are the regular
 * expressions of `field_patterns.ts`, which the contract publishes as they are.
 */
import { z } from "zod";
import { FIELD_PATTERNS, fitsCodePoints } from "./field_patterns.ts";

/**
 * The newest envelope version this code knows. It reads every version from 1 to this one and
 * writes the oldest version that holds a user's fields (see `userVersion`). A version is
 * released as `schemas/user_created.v<N>.json`; `tools/schemas.ts` checks that the schema below
 * matches the newest file and that each version is backward compatible with the one before.
 */
export const SCHEMA_VERSION = 2;

/** Every version this code reads, oldest first. */
export const SCHEMA_VERSIONS = [1, 2] as const;
/** A version this code reads. */
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];

/** Where an event came from. */
export const SOURCES = ["webhook", "randomuser"] as const;
/** Where an event came from. */
export type Source = (typeof SOURCES)[number];

/**
 * The most characters (Unicode code points) of each text field. `worker/warehouse/table_columns.ts`
 * derives the warehouse's column widths from these; `terraform/table_schema.sql` declares the
 * same widths (a test fails when they drift).
 */
export const LIMITS = {
  id: 36,
  first_name: 256,
  last_name: 256,
  gender: 32,
  address: 1024,
  post_code: 64,
  email: 320,
  username: 256,
  phone: 64,
  picture: 1024,
  nat: 2,
  cell: 64,
} as const;

const encoder = new TextEncoder();

// PostgreSQL and Redshift cannot store U+0000 in text, and a lone surrogate has no UTF-8 form
// (it would be stored as U+FFFD): refuse both here rather than accept what cannot be stored.
const HAS_NUL = "Contains U+0000, which text columns cannot store";
const LONE_SURROGATE = "Contains a lone surrogate, which has no UTF-8 form";
const STORABLE = "no U+0000 and no lone surrogate (what a text column cannot store)";

/** What the contract says of every text field: it must not match `loneSurrogate`. */
const NO_LONE_SURROGATE = { not: { pattern: FIELD_PATTERNS.loneSurrogate.source } };
const wellFormed = (s: string) => !FIELD_PATTERNS.loneSurrogate.test(s);

const maxChars = (max: number) => (s: string) => fitsCodePoints(s, max);
const tooLong = (max: number) => `Too long: at most ${max} characters`;

const text = (max: number) =>
  z.string().regex(FIELD_PATTERNS.text, HAS_NUL)
    .refine(wellFormed, LONE_SURROGATE)
    .refine(maxChars(max), tooLong(max))
    .meta({
      maxLength: max,
      ...NO_LONE_SURROGATE,
      description: `At most ${max} characters; ${STORABLE}`,
    });

const requiredText = (max: number) =>
  z.string().regex(FIELD_PATTERNS.requiredText, {
    error: (iss) => String(iss.input).includes("\u0000") ? HAS_NUL : "Empty or only whitespace",
  }).refine(wellFormed, LONE_SURROGATE)
    .refine(maxChars(max), tooLong(max))
    .meta({
      minLength: 1,
      maxLength: max,
      ...NO_LONE_SURROGATE,
      description: `1 to ${max} characters, not only whitespace (the characters ` +
        `String.prototype.trim() removes); ${STORABLE}`,
    });

const timestamp = z.string().regex(FIELD_PATTERNS.timestamp, {
  error: "Invalid timestamp: expected an RFC 3339 date-time with seconds and an offset " +
    "(Z or ±hh:mm) whose instant in UTC lies in years 0001..9999",
}).meta({
  format: "date-time",
  description: "An RFC 3339 date-time with seconds and an offset (Z or ±hh:mm), e.g. " +
    "1990-04-01T10:00:00.000Z. Its instant in UTC must lie in years 0001..9999, which both " +
    "warehouses can store: the date lies in 0001-01-01..9999-12-31, on 0001-01-01 the offset " +
    "is Z or negative and on 9999-12-31 Z or positive. Stored in UTC, to the microsecond.",
});

/** A UUID (any version), normalised to lower case so one user has one key. */
const uuid = z.guid().transform((s) => s.toLowerCase());

/** The fields of a user in version 1. */
const userFieldsV1 = {
  id: uuid,
  first_name: requiredText(LIMITS.first_name),
  last_name: requiredText(LIMITS.last_name),
  gender: text(LIMITS.gender).nullable().default(null),
  address: text(LIMITS.address).nullable().default(null),
  post_code: z.union([
    text(LIMITS.post_code),
    // Any finite JSON number; its shortest decimal text (at most 24 characters) is stored.
    z.number().transform((n) => String(n)).meta({
      minimum: -Number.MAX_VALUE,
      maximum: Number.MAX_VALUE,
    }),
  ]).nullable().default(null),
  email: z.string().regex(FIELD_PATTERNS.email, "Invalid email address")
    .refine(wellFormed, LONE_SURROGATE)
    .refine(maxChars(LIMITS.email), tooLong(LIMITS.email))
    .meta({
      maxLength: LIMITS.email,
      ...NO_LONE_SURROGATE,
      description: "local@domain: 1 to 64 and 1 to 255 characters of any script, without " +
        `whitespace or @ (and no " in the local part); ${STORABLE}`,
    }),
  username: text(LIMITS.username).nullable().default(null),
  dob: timestamp.nullable().default(null),
  registered_date: timestamp.nullable().default(null),
  phone: text(LIMITS.phone).nullable().default(null),
  picture: z.string().regex(
    FIELD_PATTERNS.picture,
    "Invalid URL: expected http(s)://host[:port][/path], without user name or password",
  ).refine(wellFormed, LONE_SURROGATE).refine(maxChars(LIMITS.picture), tooLong(LIMITS.picture))
    .meta({
      maxLength: LIMITS.picture,
      ...NO_LONE_SURROGATE,
      description: `An http or https URL of at most ${LIMITS.picture} characters: a host name or ` +
        "[IPv6] literal, an optional port, then an optional path, query or fragment without " +
        "whitespace or controls; no user name or password",
    }).nullable().default(null),
};

/**
 * The fields version 2 adds, both optional: absent is not null. An event sets only the
 * columns its version knows, so a sender that does not know a field never clears it.
 */
const userFieldsV2 = {
  nat: z.string().regex(/^[A-Z]{2}$/, "Invalid nationality: expected two capital letters, e.g. GB")
    .meta({
      description: "Nationality: the two-letter code randomuser.me gives (ISO 3166-1 alpha-2 " +
        "shape, e.g. GB, US, CH)",
    }).nullable().optional(),
  cell: text(LIMITS.cell).nullable().optional(),
};

/** A user in version 1 (what a version-1 event carries). */
export const userSchemaV1 = z.object(userFieldsV1);

/** One user, as the webhook accepts it and the warehouse stores it: the newest version. */
export const userSchema = z.object({ ...userFieldsV1, ...userFieldsV2 })
  .meta({ id: "User", description: "A user, as produced to the user_created topic" });

/** The user schema of each version, by version. */
export const USER_SCHEMAS = { 1: userSchemaV1, 2: userSchema } as const satisfies Record<
  SchemaVersion,
  z.ZodObject
>;

/**
 * The version that introduced each user field. New fields go last: the warehouse's columns
 * follow this order, and a row of version N sets the first columns only.
 */
export const FIELD_SINCE: Readonly<Record<keyof User, SchemaVersion>> = Object.fromEntries(
  SCHEMA_VERSIONS.flatMap((v) =>
    Object.keys(USER_SCHEMAS[v].shape).filter((k) =>
      v === 1 || !(k in USER_SCHEMAS[(v - 1) as SchemaVersion].shape)
    ).map((k) => [k, v])
  ),
) as Record<keyof User, SchemaVersion>;

/** One user after validation (the fields of a newer version are absent in an older one). */
export type User = z.output<typeof userSchema>;
/** One user as a sender may write it (post_code may be a number, nullable fields omitted). */
export type UserInput = z.input<typeof userSchema>;

/**
 * The oldest version that holds every field `user` has: 1 for a user without the fields
 * version 2 added (a sender that does not know them), 2 when it has `nat` or `cell`, even null.
 */
export function userVersion(user: User): SchemaVersion {
  let v: SchemaVersion = 1;
  for (const key in user) {
    const since = FIELD_SINCE[key as keyof User];
    if (since > v && user[key as keyof User] !== undefined) v = since;
  }
  return v;
}

const envelope = <V extends SchemaVersion>(version: V) =>
  z.object({
    schema_version: z.literal(version),
    event_id: uuid,
    source: z.enum(SOURCES),
    accepted_at: timestamp,
    user: USER_SCHEMAS[version],
  });

/** The envelope of each version, by version. */
export const EVENT_SCHEMAS = { 1: envelope(1), 2: envelope(2) } as const;

/** The envelope on the topic, in the newest version. */
export const eventSchema = EVENT_SCHEMAS[SCHEMA_VERSION];

/** One event after validation, of any version this code reads. */
export type UserEvent = Omit<z.output<typeof eventSchema>, "schema_version"> & {
  schema_version: SchemaVersion;
};

/** One problem with a record: where (dotted path) and what. */
export interface Issue {
  path: string;
  message: string;
}

/** A record that cannot pass as it is; never retried. */
export class ValidationError extends Error {
  override name = "ValidationError";
  readonly issues: readonly Issue[];

  constructor(message: string, issues: Issue[], options?: ErrorOptions) {
    super(message, options);
    this.issues = issues;
  }
}

/** Turns zod issues into `{ path, message }` pairs with dotted paths. */
export function toIssues(error: z.ZodError, prefix = ""): Issue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join(".") || "(root)",
    message: issue.message,
  }));
}

/** One readable line out of issues: `user.email: Invalid email address; …`. */
export function describeIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}

/** Validates one user object; throws a ValidationError listing every bad field. */
export function parseUser(input: unknown): User {
  const result = userSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = toIssues(result.error);
  throw new ValidationError(`Invalid user: ${describeIssues(issues)}`, issues);
}

/** Wraps a valid user in an envelope. */
export function newEvent(
  user: User,
  source: Source,
  acceptedAt: Date,
  eventId: string = crypto.randomUUID(),
): UserEvent {
  return {
    schema_version: userVersion(user),
    event_id: eventId,
    source,
    accepted_at: acceptedAt.toISOString(),
    user,
  };
}

/** The stage at which a record was refused, for dead-letter headers. */
export type DecodeStage = "utf8" | "json" | "schema";

/**
 * A record of a version newer than this code knows: neither valid nor invalid here. The
 * worker holds its partition at it until a worker that knows the version reads it.
 */
export interface NewerVersion {
  ok: false;
  stage: "newer";
  version: number;
  reason: string;
}

/** What `decodeEvent` returns. */
export type Decoded =
  | { ok: true; event: UserEvent }
  | { ok: false; stage: DecodeStage; reason: string; issues: Issue[] }
  | NewerVersion;

/** What a record of a newer version is told. */
export function newerVersionReason(version: number): string {
  return `schema_version ${version} is newer than this worker (it knows 1 to ${SCHEMA_VERSION}); ` +
    "upgrade the workers";
}

/** The version field of an envelope, when it is one: a positive integer. */
function versionOf(data: unknown): number | undefined {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return undefined;
  const v = (data as { schema_version?: unknown }).schema_version;
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

const NOT_A_VERSION: Issue = {
  path: "schema_version",
  message:
    `Not a schema version: expected a positive integer (this code knows 1 to ${SCHEMA_VERSION})`,
};

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a message value (bytes from Kafka) into an event, or says why it cannot be one.
 * Never throws: every failure is a value, so one bad record cannot stop a batch.
 */
export function decodeEvent(value: Uint8Array | null | undefined): Decoded {
  if (!value || value.length === 0) {
    return { ok: false, stage: "json", reason: "Empty message value", issues: [] };
  }
  let json: string;
  try {
    json = strictUtf8.decode(value);
  } catch {
    return { ok: false, stage: "utf8", reason: "Message value is not valid UTF-8", issues: [] };
  }
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    const reason = `Message value is not JSON: ${(err as Error).message}`;
    return { ok: false, stage: "json", reason, issues: [] };
  }
  const version = versionOf(data);
  if (version !== undefined && version > SCHEMA_VERSION) {
    return { ok: false, stage: "newer", version, reason: newerVersionReason(version) };
  }
  // A version this code knows is read with its own schema; anything else is refused with the
  // newest schema's reasons, and the version's own.
  const result = EVENT_SCHEMAS[(version ?? SCHEMA_VERSION) as SchemaVersion].safeParse(data);
  if (result.success) return { ok: true, event: result.data as UserEvent };
  const issues = toIssues(result.error).filter((i) =>
    version !== undefined || i.path !== "schema_version"
  );
  if (version === undefined) issues.unshift(NOT_A_VERSION);
  return { ok: false, stage: "schema", reason: describeIssues(issues), issues };
}

/** Serialises an event for the topic. */
export function encodeEvent(event: UserEvent): Uint8Array {
  return encoder.encode(JSON.stringify(event));
}

/**
 * The bytes of `encodeEvent(newEvent(user, source, acceptedAt, eventId))` without building the
 * envelope object: the envelope's fields (a UUID, a source, an ISO timestamp) need no JSON
 * escaping, so only the validated user goes through `JSON.stringify`. For the ingest's hot
 * path, where one timestamp (`acceptedAt.toISOString()`) serves a whole request.
 */
export function encodeNewEvent(
  user: User,
  source: Source,
  acceptedAtIso: string,
  eventId: string,
): Uint8Array {
  return encoder.encode(
    `{"schema_version":${userVersion(user)},"event_id":"${eventId}","source":"${source}",` +
      `"accepted_at":"${acceptedAtIso}","user":${JSON.stringify(user)}}`,
  );
}
