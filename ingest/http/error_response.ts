/**
 * The one place where the ingest turns an error into an HTTP answer
 * (`application/problem+json`, RFC 9457). Unexpected errors are logged here, once, and
 * answered 500 without internals.
 */
import { errorFields, type Logger } from "../../shared/logger.ts";
import { HttpError } from "./http_error.ts";
import { InvalidItemsError } from "./parse_users.ts";
import { ProduceError } from "../produce/produce_error.ts";
import { SignatureError } from "./webhook_signature.ts";
import { ValidationError } from "../../shared/event.ts";

/** The media type of every error answer. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** A problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extra: string]: unknown;
}

/** Answers `err` for the request to `instance` (its path). */
export function errorResponse(err: unknown, instance: string, logger: Logger): Response {
  if (err instanceof HttpError) {
    return problem({ status: err.status, title: err.title, detail: err.message }, err.headers);
  }
  if (err instanceof SignatureError) {
    return problem({ status: 401, title: "Unauthorized", detail: err.message }, {
      "www-authenticate": 'Webhook realm="ingest"',
    });
  }
  if (err instanceof InvalidItemsError) {
    return problem({
      status: 400,
      title: "Invalid users",
      detail: err.message,
      errors: err.items,
    });
  }
  if (err instanceof ValidationError) {
    return problem({ status: 400, title: "Invalid users", detail: err.message });
  }
  if (err instanceof ProduceError) {
    return problem(
      {
        status: 503,
        title: "Service unavailable",
        detail: `${err.message}; nothing of this request was accepted, retry later`,
        reason: err.reason,
      },
      { "retry-after": String(err.retryAfterSeconds) },
    );
  }
  logger.error("unexpected error", { ...errorFields(err), path: instance });
  return problem({ status: 500, title: "Internal server error", detail: "Unexpected error" });
}

/** A problem+json response. */
export function problem(
  p: { type?: string; title: string; status: number; detail: string; [extra: string]: unknown },
  headers: Record<string, string> = {},
): Response {
  const body: Problem = { type: "about:blank", ...p };
  return new Response(JSON.stringify(body), {
    status: p.status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, ...headers },
  });
}
