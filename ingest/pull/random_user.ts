/**
 * Mapping from a randomuser.me result (API version 1.4) to a `User`.
 *
 * The API answers `GET /api/?results=N` with `{ "results": [...], "info": {...} }`. Known
 * quirks handled here: `location.postcode` is a number for some nationalities and a string
 * for others; names carry non-ASCII letters and apostrophes; some fields come back null or
 * empty for some nationalities (an empty string becomes null, except in required fields).
 *
 * A pulled user always has `nat` and `cell` (null when the result has none), so it is a
 * version-2 user: randomuser.me is the source of both fields.
 *
 * @example
 * ```ts
 * const body = await (await fetch("https://randomuser.me/api/?results=10")).json();
 * const { users, rejected } = usersFromResponse(body);
 * ```
 */
import { z } from "zod";
import {
  describeIssues,
  type Issue,
  parseUser,
  toIssues,
  type User,
  userSchema,
  ValidationError,
} from "../../shared/event.ts";

const nullableText = z.union([z.string(), z.number()]).nullish();

/** The parts of a randomuser.me 1.4 result that the pipeline uses. */
export const randomUserResultSchema = z.object({
  gender: z.string().nullish(),
  name: z.object({ first: z.string(), last: z.string() }),
  location: z.object({
    street: z.object({ number: nullableText, name: z.string().nullish() }).nullish(),
    city: z.string().nullish(),
    state: nullableText,
    country: z.string().nullish(),
    postcode: nullableText,
  }).nullish(),
  email: z.string(),
  login: z.object({ uuid: z.string(), username: z.string().nullish() }),
  dob: z.object({ date: z.string().nullish() }).nullish(),
  registered: z.object({ date: z.string().nullish() }).nullish(),
  phone: z.string().nullish(),
  cell: z.string().nullish(),
  picture: z.object({ medium: z.string().nullish() }).nullish(),
  // Anything: a nationality that breaks the rule becomes null (see `nationality`), so its
  // type must not refuse the result either.
  nat: z.unknown().optional(),
});

/** The whole response body. */
export const randomUserResponseSchema = z.object({
  results: z.array(z.unknown()),
  info: z.unknown().optional(),
});

/**
 * Maps one result to a user.
 * @throws {ValidationError} naming every field that is missing or malformed.
 */
export function fromRandomUser(result: unknown): User {
  const parsed = randomUserResultSchema.safeParse(result);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    throw new ValidationError(`Invalid randomuser result: ${describeIssues(issues)}`, issues);
  }
  const r = parsed.data;
  const loc = r.location;
  const street = [str(loc?.street?.number), str(loc?.street?.name)].filter(Boolean).join(" ");
  const address = [street, str(loc?.city), str(loc?.state), str(loc?.country)]
    .filter(Boolean).join(", ");
  return parseUser({
    id: r.login.uuid,
    first_name: r.name.first,
    last_name: r.name.last,
    gender: str(r.gender),
    address: address || null,
    post_code: str(loc?.postcode),
    email: r.email,
    username: str(r.login.username),
    dob: str(r.dob?.date),
    registered_date: str(r.registered?.date),
    phone: str(r.phone),
    picture: str(r.picture?.medium),
    nat: nationality(r.nat),
    cell: str(r.cell),
  });
}

/** One result that could not be mapped: its index and why. */
export interface RejectedResult {
  index: number;
  issues: Issue[];
}

/**
 * Maps a whole response body. Results that do not map are returned as `rejected` (with their
 * index) rather than failing the rest.
 * @throws {ValidationError} when the body is not a randomuser response at all.
 */
export function usersFromResponse(body: unknown): { users: User[]; rejected: RejectedResult[] } {
  const parsed = randomUserResponseSchema.safeParse(body);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    throw new ValidationError(`Not a randomuser response: ${describeIssues(issues)}`, issues);
  }
  const users: User[] = [];
  const rejected: RejectedResult[] = [];
  parsed.data.results.forEach((result, index) => {
    try {
      users.push(fromRandomUser(result));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      rejected.push({ index, issues: [...err.issues] });
    }
  });
  return { users, rejected };
}

/**
 * The result's nationality, or null when it has none or one that breaks the shared schema's
 * rule (two capital letters, e.g. "CH"). Unlike every other field, a bad `nat` does not cost
 * the user: it is an optional detail next to fields that are all good, and a code randomuser.me
 * might add or spell differently ("ch", "CHE") should not drop whole users from a pull. The
 * rule is the schema's own, so the pull cannot pass what the webhook refuses.
 */
function nationality(v: unknown): string | null {
  const s = typeof v === "string" ? str(v) : null;
  return s !== null && userSchema.shape.nat.safeParse(s).success ? s : null;
}

/** A trimmed string, or null for null, undefined and empty values. Numbers become text. */
function str(v: string | number | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v).trim();
  return s === "" ? null : s;
}
