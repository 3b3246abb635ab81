/**
 * Turns a webhook body into validated users: one JSON object, a JSON array, or NDJSON
 * (`Content-Type: application/x-ndjson`, one object per line).
 *
 * A batch is all or nothing: when any item is invalid, none is produced and the answer lists
 * every invalid item with its index and reasons. A sender can then fix or drop those items and
 * resend the whole batch without creating duplicates of the valid ones.
 */
import {
  describeIssues,
  type Issue,
  toIssues,
  type User,
  userSchema,
  ValidationError,
} from "../../shared/event.ts";
import { HttpError } from "./http_error.ts";

/** One invalid item of a batch: its position (0-based) and what is wrong with it. */
export interface ItemError {
  index: number;
  issues: Issue[];
}

/** A body whose items are not all valid users (answered 400 with `errors`). */
export class InvalidItemsError extends ValidationError {
  override name = "InvalidItemsError";
  /** Every invalid item. */
  readonly items: readonly ItemError[];

  constructor(items: ItemError[], total: number) {
    const first = items[0]!;
    super(
      `${items.length} of ${total} items are invalid; item ${first.index}: ${
        describeIssues(first.issues)
      }`,
      items.flatMap((i) => i.issues.map((x) => ({ ...x, path: `[${i.index}].${x.path}` }))),
    );
    this.items = items;
  }
}

/** The media types the webhook accepts. */
export const ACCEPTED_TYPES = ["application/json", "application/x-ndjson"] as const;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The body's media type, without parameters. A `charset` parameter, if any, must name UTF-8:
 * the body is always decoded as UTF-8, so a sender that declares another charset would have its
 * text silently misread.
 * The last accepted header and its answer are kept: senders repeat the same header, and the
 * route asks before the signature check and again when parsing.
 * @throws {HttpError} 415 unless it is one of `ACCEPTED_TYPES` with no other charset.
 */
export function mediaType(contentType: string | null): (typeof ACCEPTED_TYPES)[number] {
  if (contentType !== null && contentType === lastAccepted.header) return lastAccepted.type;
  const [head, ...params] = contentType?.split(";") ?? [];
  const type = head?.trim().toLowerCase() ?? "";
  const accepted = ACCEPTED_TYPES.find((t) => t === type);
  if (!accepted) {
    throw new HttpError(
      415,
      "Unsupported media type",
      `Content-Type must be application/json or application/x-ndjson, got "${
        contentType?.slice(0, 100) ?? "(none)"
      }"`,
    );
  }
  for (const param of params) {
    const [name, value] = param.split("=", 2).map((s) => s.trim().toLowerCase());
    if (name !== "charset") continue;
    const charset = value?.replace(/^"(.*)"$/, "$1");
    if (charset !== "utf-8" && charset !== "utf8") {
      throw new HttpError(
        415,
        "Unsupported media type",
        `Content-Type charset must be utf-8, got "${value?.slice(0, 40) ?? ""}"`,
      );
    }
  }
  if (contentType !== null) lastAccepted = { header: contentType, type: accepted };
  return accepted;
}

let lastAccepted: { header: string; type: (typeof ACCEPTED_TYPES)[number] } = {
  header: "application/json",
  type: "application/json",
};

/**
 * Parses and validates the body.
 * @throws {HttpError} 415 for another content type, 400 for bad JSON or shape, 413 for more
 * than `maxItems` items.
 * @throws {InvalidItemsError} when an item is not a valid user.
 */
export function parseUsers(body: Uint8Array, contentType: string | null, maxItems: number): User[] {
  const type = mediaType(contentType);
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch (cause) {
    throw new HttpError(400, "Bad request", "Body is not valid UTF-8", { cause });
  }
  const items = type === "application/x-ndjson" ? parseNdjson(text) : parseJson(text);
  if (items.length === 0) throw new HttpError(400, "Bad request", "Empty batch: no items");
  if (items.length > maxItems) {
    throw new HttpError(
      413,
      "Payload too large",
      `Too many items: ${items.length}, the limit is ${maxItems}`,
    );
  }
  const users: User[] = [];
  const errors: ItemError[] = [];
  items.forEach((item, index) => {
    const result = userSchema.safeParse(item);
    if (result.success) users.push(result.data);
    else errors.push({ index, issues: toIssues(result.error) });
  });
  if (errors.length > 0) throw new InvalidItemsError(errors, items.length);
  return users;
}

function parseJson(text: string): unknown[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new HttpError(400, "Bad request", `Body is not JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (Array.isArray(data)) return data;
  if (data !== null && typeof data === "object") return [data];
  throw new HttpError(400, "Bad request", "Body must be a user object or an array of users");
}

function parseNdjson(text: string): unknown[] {
  const items: unknown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    try {
      items.push(JSON.parse(line));
    } catch (cause) {
      throw new HttpError(
        400,
        "Bad request",
        `Line ${i + 1} is not JSON: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  return items;
}
