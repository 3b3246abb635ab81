/**
 * An OpenAPI check that is not ours: `openapi-spec-validator` (PyPI) holds a document to the
 * OpenAPI 3.1 schema and compiles each `pattern` with Python's `re`; `jsonschema-rs` compiles
 * each `pattern` with Rust's regex. Between them they read the document as contract tools
 * (schemathesis, code generators) do. Installed once into a venv in the cache
 * (`python_venv.ts`) from the pinned set in `openapi_validator_requirements.txt` (about 10 s);
 * `openapi_check.py` does the checking.
 */
import { run } from "./_process.ts";
import { ensurePythonTool } from "./python_venv.ts";

/** The pinned openapi-spec-validator release (the rest of the set is in the requirements). */
export const OPENAPI_SPEC_VALIDATOR_VERSION = "0.9.0";

/** One thing a validator refused: where (a JSON pointer) and what it said. */
export interface OpenApiProblem {
  where: string;
  message: string;
}

/**
 * Makes sure the validators are installed in the cache; returns the venv's `python`.
 * @throws {StackError} when python3, its venv module or pip is missing, or pip fails.
 */
export function ensureOpenApiValidator(): Promise<string> {
  return ensurePythonTool({
    package: "openapi-spec-validator",
    version: OPENAPI_SPEC_VALIDATOR_VERSION,
    purpose: "the tests' OpenAPI validator",
    requirements: new URL("./openapi_validator_requirements.txt", import.meta.url),
  });
}

/**
 * What the validators refuse in `doc` (an OpenAPI 3.1 document as JSON); none when it passes.
 * @throws {StackError} when the validators cannot be installed or the check itself fails.
 */
export async function openApiProblems(doc: unknown): Promise<OpenApiProblem[]> {
  const python = await ensureOpenApiValidator();
  const file = await Deno.makeTempFile({ prefix: "openapi-", suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify(doc));
    const script = new URL("./openapi_check.py", import.meta.url).pathname;
    const out = await run(python, [script, file], { what: "openapi_check.py" });
    return JSON.parse(out) as OpenApiProblem[];
  } finally {
    await Deno.remove(file);
  }
}
