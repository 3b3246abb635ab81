/**
 * `GET /openapi.json`: the webhook's contract, generated from the same zod schema the webhook
 * validates with, so the documentation cannot drift from the validation.
 *
 * What must stay true: a request the document allows is accepted (202) unless the document
 * lists why not (a signature, a replay, the body's size in bytes, Kafka), and every status a
 * route answers is listed. The field rules JSON Schema cannot say are the `pattern`s of
 * `shared/field_patterns.ts`, the very regexes the server validates with, and lengths are code
 * points on both sides. `tests/openapi_contract_test.ts` generates requests from this document
 * and holds the app to it.
 *
 * The document is OpenAPI 3.1 that tools other than ours read: every `pattern` compiles in
 * ECMAScript, Python's `re` and Rust's regex, so the event schema's "no lone surrogate"
 * (`\p{Cs}`, which the released event schemas keep) is published in its portable form, and
 * nothing stands where the OpenAPI schema allows no extra field (a media type has no
 * `description`). `tests/openapi_validator_stack_test.ts` holds the served document to
 * openapi-spec-validator and both engines.
 */
import { z } from "zod";
import { userSchema } from "../../shared/event.ts";
import { FIELD_PATTERNS } from "../../shared/field_patterns.ts";
import { MAX_WEBHOOK_ID_LENGTH } from "./authenticate.ts";
import { ACCEPTED_TYPES } from "./parse_users.ts";
import { DEFAULT_BODY_TIMEOUT_MS } from "./read_body.ts";

/** What the document depends on in the configuration. */
export interface OpenApiOptions {
  /** `INGEST_MAX_ITEMS`: the most users in one request. */
  maxItems: number;
  /** `INGEST_MAX_BODY_BYTES`: the largest body. */
  maxBodyBytes: number;
  /** `INGEST_ALLOW_UNSIGNED`: whether the signature may be left out. */
  allowUnsigned?: boolean;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const problem = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { "application/problem+json": { schema: ref("Problem") } },
});

const json = (description: string, schema: unknown = {}) => ({
  description,
  content: { "application/json": { schema } },
});

const STATIC_SCHEMAS = {
  Problem: {
    type: "object",
    description: "An RFC 9457 problem",
    properties: {
      type: { type: "string" },
      title: { type: "string" },
      status: { type: "integer" },
      detail: { type: "string" },
      errors: {
        type: "array",
        description: "For 400 on invalid users: every invalid item with its index and issues",
        items: {
          type: "object",
          properties: {
            index: { type: "integer" },
            issues: {
              type: "array",
              items: {
                type: "object",
                properties: { path: { type: "string" }, message: { type: "string" } },
                required: ["path", "message"],
              },
            },
          },
          required: ["index", "issues"],
        },
      },
      reason: { type: "string", description: "For 503: why Kafka did not take the events" },
      run: { ...ref("PullRun"), description: "For 409 and 502 on /v1/pull: the run" },
    },
    required: ["type", "title", "status", "detail"],
  },
  Accepted: {
    type: "object",
    properties: {
      accepted: { type: "integer", minimum: 1 },
      event_ids: { type: "array", items: { type: "string", format: "uuid" } },
    },
    required: ["accepted", "event_ids"],
  },
  PullRun: {
    type: "object",
    properties: {
      trigger: { enum: ["schedule", "manual"] },
      started_at: { type: "string", format: "date-time" },
      finished_at: { type: "string", format: "date-time" },
      outcome: { enum: ["ok", "partial", "failed", "skipped"] },
      fetched: { type: "integer" },
      produced: { type: "integer" },
      rejected: { type: "integer" },
      error: { type: "string" },
    },
    required: [
      "trigger",
      "started_at",
      "finished_at",
      "outcome",
      "fetched",
      "produced",
      "rejected",
    ],
  },
};

/** The Standard Webhooks headers, one apiKey scheme each; a signed request sends all three. */
const SECURITY_SCHEMES = {
  webhookId: {
    type: "apiKey",
    in: "header",
    name: "webhook-id",
    description: `Unique message id, at most ${MAX_WEBHOOK_ID_LENGTH} characters (400 beyond); ` +
      "a second request with an id already accepted within the tolerance window is refused " +
      "(409). Also honoured on unsigned requests.",
  },
  webhookTimestamp: {
    type: "apiKey",
    in: "header",
    name: "webhook-timestamp",
    description: "Unix seconds; must be within the tolerance window (WEBHOOK_TOLERANCE_SECONDS)",
  },
  webhookSignature: {
    type: "apiKey",
    in: "header",
    name: "webhook-signature",
    description: "Standard Webhooks (https://www.standardwebhooks.com/): space-separated " +
      '`v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">` with the key ' +
      "bytes of a whsec_ secret. The value depends on the body, so it cannot be a fixed key.",
  },
};

/** The responses every signed POST may get before its body is looked at. */
function requestFailures(maxBodyBytes: number) {
  return {
    "401": problem("Missing, wrong or stale signature, or a signature with no secret to check it", {
      "www-authenticate": { schema: { type: "string" } },
    }),
    "408": problem(`The body did not arrive within ${DEFAULT_BODY_TIMEOUT_MS / 1000} s`),
    "413": problem(`The body is over ${maxBodyBytes} bytes`),
  };
}

/** Builds the OpenAPI 3.1 document of the ingest's HTTP API. */
export function buildOpenApi(opts: OpenApiOptions): unknown {
  const user = z.toJSONSchema(userSchema, {
    io: "input",
    target: "draft-2020-12",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  const { $schema: _s, $defs, ...rest } = user as {
    $schema?: string;
    $defs?: Record<string, unknown>;
  };
  const schemas: Record<string, unknown> = {
    ...portable(fixRefs($defs ?? {})),
    ...("$ref" in rest ? {} : { User: portable(fixRefs(rest)) }),
    ...STATIC_SCHEMAS,
  };
  const signed = { webhookId: [], webhookTimestamp: [], webhookSignature: [] };
  // With INGEST_ALLOW_UNSIGNED the signature is optional; a request that carries one is still
  // verified (and refused with 401 when no secret is configured).
  const security = opts.allowUnsigned ? [signed, {}] : [signed];
  const failures = requestFailures(opts.maxBodyBytes);
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
          description: `One JSON object, a JSON array or NDJSON, 1 to ${opts.maxItems} users ` +
            `and at most ${opts.maxBodyBytes} bytes. A batch is all or nothing: if any item is ` +
            "invalid, none is produced. 202 means Kafka acknowledged every event (acks=all).",
          security,
          parameters: [{
            name: "traceparent",
            in: "header",
            required: false,
            description: "W3C trace context; travels with each event as a Kafka header " +
              "(a malformed one is replaced, never refused)",
            schema: { type: "string" },
          }],
          requestBody: {
            required: true,
            description: `As application/x-ndjson: one User object per line, 1 to ` +
              `${opts.maxItems} lines; blank lines are skipped.`,
            content: {
              "application/json": {
                schema: {
                  oneOf: [ref("User"), {
                    type: "array",
                    items: ref("User"),
                    minItems: 1,
                    maxItems: opts.maxItems,
                  }],
                },
              },
              // The schema of one line: OpenAPI has no way to say "a stream of these".
              "application/x-ndjson": { schema: ref("User") },
            },
          },
          responses: {
            "202": {
              description: "Every event was acknowledged by Kafka",
              headers: { traceparent: { schema: { type: "string" } } },
              content: { "application/json": { schema: ref("Accepted") } },
            },
            "400": problem(
              "Bad JSON or UTF-8, an empty batch, invalid items (listed in errors), a " +
                "Content-Length that is malformed or differs from the body, a body that broke " +
                `off, or a webhook-id over ${MAX_WEBHOOK_ID_LENGTH} characters`,
            ),
            ...failures,
            "409": problem("Replayed webhook-id"),
            "413": problem(
              `The body is over ${opts.maxBodyBytes} bytes or holds more than ${opts.maxItems} ` +
                "users",
            ),
            "415": problem(
              `Content-Type is not ${ACCEPTED_TYPES.join(" or ")}, its charset is not UTF-8, ` +
                "or the body is encoded (Content-Encoding other than identity)",
            ),
            "503": problem(
              "Kafka unavailable, send buffer full, too many request bodies in flight or too " +
                "many connections; nothing was accepted",
              {
                "retry-after": { schema: { type: "string" } },
              },
            ),
          },
        },
      },
      "/v1/pull": {
        post: {
          summary: "Run the randomuser.me pull job now (signed like the webhook)",
          description: "The body, if any, is only signed, never read as users.",
          security,
          responses: {
            "200": json("The run's result (ok or partial)", ref("PullRun")),
            "400": problem(
              "A Content-Length that is malformed or differs from the body, a body that broke " +
                `off, or a webhook-id over ${MAX_WEBHOOK_ID_LENGTH} characters`,
            ),
            ...failures,
            "409": problem("Replayed webhook-id, or a run is going on"),
            "415": problem("The body is encoded (Content-Encoding other than identity)"),
            "502": problem("The run failed"),
          },
        },
      },
      "/v1/pull/runs": {
        get: {
          summary: "The last pull runs",
          responses: {
            "200": json("Runs, newest first", {
              type: "object",
              properties: { runs: { type: "array", items: ref("PullRun") } },
              required: ["runs"],
            }),
          },
        },
      },
      "/openapi.json": {
        get: { summary: "This document", responses: { "200": json("OpenAPI 3.1") } },
      },
      "/healthz": {
        get: { summary: "Process alive", responses: { "200": json("ok") } },
      },
      "/readyz": {
        get: {
          summary: "Kafka reachable, producer connected, buffer not full or stalled",
          responses: { "200": json("ready"), "503": json("not ready") },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          responses: {
            "200": { description: "text format", content: { "text/plain": { schema: {} } } },
          },
        },
      },
    },
    components: { schemas, securitySchemes: SECURITY_SCHEMES },
  };
}

/** zod writes `#/$defs/X`; OpenAPI components live at `#/components/schemas/X`. */
function fixRefs<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/'),
  ) as T;
}

/**
 * The event's schema refuses lone surrogates with `not: { pattern: "\\p{Cs}" }`, which
 * ECMAScript reads but Python's `re` cannot compile; the document says the same with
 * `loneSurrogatePortable`, which matches the same strings in every engine.
 */
function portable<T>(value: T): T {
  const { loneSurrogate, loneSurrogatePortable } = FIELD_PATTERNS;
  return JSON.parse(
    JSON.stringify(value),
    (key, v) => key === "pattern" && v === loneSurrogate.source ? loneSurrogatePortable.source : v,
  ) as T;
}
