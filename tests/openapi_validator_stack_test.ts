/**
 * The document `GET /openapi.json` serves, held by validators that are not ours
 * (`stack/openapi_validator.ts`: openapi-spec-validator, and Python's and Rust's regex engines
 * for every `pattern`). A `_stack_test` because the first run installs them from PyPI.
 */
import assert from "node:assert/strict";
import { createIngestApp } from "../ingest/http/app.ts";
import { openApiProblems } from "../stack/openapi_validator.ts";
import { FakeProducer } from "../testing/fakes.ts";
import { testConfig } from "../testing/test_config.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

async function servedDocument(env: Record<string, string>): Promise<Json> {
  const app = createIngestApp(testConfig(env), { producer: new FakeProducer() });
  try {
    const response = await app.handler(new Request("http://ingest.test/openapi.json"));
    assert.equal(response.status, 200);
    return await response.json();
  } finally {
    await app.close();
  }
}

Deno.test("GET /openapi.json is valid OpenAPI 3.1 and its patterns compile in Python and Rust", async () => {
  const configs: Record<string, string>[] = [
    {},
    { WEBHOOK_SECRET: "", INGEST_ALLOW_UNSIGNED: "true" },
  ];
  for (const env of configs) {
    const problems = await openApiProblems(await servedDocument(env));
    const lines = problems.map((p) => `\n  ${p.where}: ${p.message}`).join("");
    assert.deepEqual(problems, [], `with ${JSON.stringify(env)}:${lines}`);
  }
});

Deno.test("the validators refuse what the ingest once served (a media type's description, \\p{Cs}) and surrogates", async () => {
  const doc = await servedDocument({});
  const ndjson = doc.paths["/v1/users"].post.requestBody.content["application/x-ndjson"];
  ndjson.description = "One user object per line";
  const { email, last_name } = doc.components.schemas.User.properties;
  email.not = { pattern: "\\p{Cs}" };
  last_name.not = { pattern: "[\\ud800-\\udfff]" };
  const problems = await openApiProblems(doc);
  const messages = problems.map((p) => `${p.where}: ${p.message}`);
  assert.ok(
    messages.some((m) =>
      m.startsWith("/paths/~1v1~1users/post/requestBody/content/application~1x-ndjson: ") &&
      m.includes("'description' was unexpected")
    ),
    messages.join("\n"),
  );
  assert.ok(
    messages.includes(
      "/components/schemas/User/properties/email/not/pattern: Python re: bad escape \\p at " +
        "position 0",
    ),
    messages.join("\n"),
  );
  assert.ok(
    messages.some((m) =>
      m.startsWith("/components/schemas/User/properties/last_name/not/pattern: Rust regex: ")
    ),
    messages.join("\n"),
  );
});
