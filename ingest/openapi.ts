/**
 * `GET /openapi.json`: the webhook's contract, generated from the same zod schema the webhook
 * validates with, so the documentation cannot drift from the validation.
 */
import { z } from "zod";
import { userSchema } from "../shared/event.ts";
import { DEFAULT_BODY_TIMEOUT_MS } from "./read_body.ts";

/** Builds the OpenAPI 3.1 document of the ingest's HTTP API. */
export function buildOpenApi(opts: { maxItems: number; maxBodyBytes: number }): unknown {
  const user = z.toJSONSchema(userSchema, {
    io: "input",
    target: "draft-2020-12",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  const { $schema: _s, $defs, ...rest } = user as {
    $schema?: string;
    $defs?: Record<string, unknown>;
  };
  const userRef = { $ref: "#/components/schemas/User" };
  const schemas: Record<string, unknown> = {
    ...fixRefs($defs ?? {}),
    ...("$ref" in rest ? {} : { User: fixRefs(rest) }),
    Problem: {
      type: "object",
      properties: {
        type: { type: "string" },
        title: { type: "string" },
        status: { type: "integer" },
        detail: { type: "string" },
        errors: {
          type: "array",
          description: "For 400 on a batch: every invalid item with its index and issues",
          items: {
            type: "object",
            properties: {
              index: { type: "integer" },
              issues: {
                type: "array",
                items: {
                  type: "object",
                  properties: { path: { type: "string" }, message: { type: "string" } },
                },
              },
            },
          },
        },
      },
      required: ["type", "title", "status", "detail"],
    },
    Accepted: {
      type: "object",
      properties: {
        accepted: { type: "integer" },
        event_ids: { type: "array", items: { type: "string", format: "uuid" } },
      },
      required: ["accepted", "event_ids"],
    },
  };
  const problem = (description: string) => ({
    description,
    content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
  });
  const signatureHeaders = [
    ["webhook-id", "Unique message id; a replay within the tolerance window is refused"],
    ["webhook-timestamp", "Unix seconds; must be within the tolerance window"],
    ["webhook-signature", "v1,<base64 HMAC-SHA256 of id.timestamp.body>, space-separated"],
  ].map(([name, description]) => ({
    name,
    in: "header",
    required: false,
    description,
    schema: { type: "string" },
  }));
  return {
    openapi: "3.1.0",
    info: {
      title: "user-pipeline ingest",
      version: "1",
      description:
        "Receives user_created events (signed by the Standard Webhooks scheme) and produces them to Kafka.",
    },
    paths: {
      "/v1/users": {
        post: {
          summary: "Accept one user or a batch of users",
          description:
            `One JSON object, a JSON array or NDJSON, at most ${opts.maxItems} items and ${opts.maxBodyBytes} bytes. A batch is all or nothing: if any item is invalid, none is produced. 202 means Kafka acknowledged every event (acks=all).`,
          parameters: [
            ...signatureHeaders,
            {
              name: "traceparent",
              in: "header",
              required: false,
              description: "W3C trace context; travels with each event as a Kafka header",
              schema: { type: "string" },
            },
          ],
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: { oneOf: [userRef, { type: "array", items: userRef }] },
              },
              "application/x-ndjson": {
                schema: userRef,
                description: "One user object per line",
              },
            },
          },
          responses: {
            "202": {
              description: "Every event was acknowledged by Kafka",
              content: {
                "application/json": { schema: { $ref: "#/components/schemas/Accepted" } },
              },
            },
            "400": problem(
              "Bad JSON, invalid items (listed in errors), a Content-Length that is malformed " +
                "or differs from the body, a body that broke off, or a webhook-id over 256 characters",
            ),
            "401": problem("Missing, wrong or stale signature"),
            "408": problem(`The body did not arrive within ${DEFAULT_BODY_TIMEOUT_MS / 1000} s`),
            "409": problem("Replayed webhook-id"),
            "413": problem("Body too large or too many items"),
            "415": problem(
              "Content-Type is not application/json or application/x-ndjson, its charset is " +
                "not UTF-8, or the body is encoded (Content-Encoding other than identity)",
            ),
            "503": problem("Kafka unavailable or send buffer full; see Retry-After"),
          },
        },
      },
      "/v1/pull": {
        post: {
          summary: "Run the randomuser.me pull job now (same signature as the webhook)",
          parameters: signatureHeaders,
          responses: {
            "200": { description: "The run's result" },
            "409": problem("A run is going on"),
            "502": problem("The run failed"),
          },
        },
      },
      "/v1/pull/runs": {
        get: {
          summary: "The last pull runs",
          responses: { "200": { description: "Runs, newest first" } },
        },
      },
      "/healthz": {
        get: { summary: "Process alive", responses: { "200": { description: "ok" } } },
      },
      "/readyz": {
        get: {
          summary: "Kafka reachable and producer connected",
          responses: { "200": { description: "ready" }, "503": { description: "not ready" } },
        },
      },
      "/metrics": {
        get: { summary: "Prometheus metrics", responses: { "200": { description: "text" } } },
      },
    },
    components: { schemas },
  };
}

/** zod writes `#/$defs/X`; OpenAPI components live at `#/components/schemas/X`. */
function fixRefs<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/'),
  ) as T;
}
