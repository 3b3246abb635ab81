/**
 * The ingest's answer to a request that arrives once it is shutting down (see
 * `fixes/connection_drain.ts`, which asks for it): 503 `shutting_down` with `Retry-After`, as
 * every produce failure is answered, so a client retries it like one.
 */
import { silentLogger } from "../../shared/logger.ts";
import { ProduceError } from "../produce/produce_error.ts";
import { errorResponse } from "./error_response.ts";

const SHUTTING_DOWN = new ProduceError("shutting_down", "The ingest is shutting down", {
  retryAfterSeconds: 5,
});

/** Answers `request` 503 `shutting_down`: nothing of it is accepted. */
export function shuttingDownResponse(request: Request): Response {
  return errorResponse(SHUTTING_DOWN, new URL(request.url).pathname, silentLogger);
}
