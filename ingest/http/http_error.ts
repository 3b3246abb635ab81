/**
 * An error that already knows its HTTP answer: status, a short title and a detail for the
 * client. `errorResponse` turns it into `application/problem+json`.
 */

/** A request the ingest refuses, with the status to answer. */
export class HttpError extends Error {
  override name = "HttpError";
  /** The HTTP status code. */
  readonly status: number;
  /** A short, fixed summary of the problem type (RFC 9457 `title`). */
  readonly title: string;
  /** Extra response headers (e.g. `Allow`). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    title: string,
    detail: string,
    opts: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: opts.cause });
    this.status = status;
    this.title = title;
    this.headers = opts.headers ?? {};
  }
}
