// deno-lint-ignore-file no-console -- a command-line check: its output is for the terminal
/**
 * `deno task check`'s contract check: the released JSON Schemas of the `user_created` event,
 * `schemas/user_created.v<N>.json`, against `shared/event.ts`. It fails, one line per problem
 * naming the file and a JSONPath, when
 *
 * 1. a version in `SCHEMA_VERSIONS` has no file, or its zod schema no longer generates its
 *    file (a released contract never changes: a change is a new version);
 * 2. a file holds a version the code does not list (or `schemas/` holds anything else);
 * 3. a version refuses an event of the version before it (`schema_version` aside): see
 *    `schema_compat.ts` for the rules.
 *
 * With `--write` it first writes the files of the listed versions that have none, when they
 * are backward compatible; it never rewrites a released file.
 *
 * ```sh
 * deno run --allow-read tools/schemas.ts                            # check
 * deno run --allow-read --allow-write=schemas tools/schemas.ts --write
 * ```
 */
import { SCHEMA_VERSION, SCHEMA_VERSIONS, type SchemaVersion } from "../shared/event.ts";
import { formatSchema, releasedSchema, SCHEMAS_DIR } from "./released_schemas.ts";
import { schemaProblems, type SchemaRelease, schemaWrites } from "./schemas_check.ts";

const USAGE = "usage: deno task schemas [--write]";

const args = Deno.args;
if (args.length > 1 || (args.length === 1 && args[0] !== "--write")) {
  console.error(USAGE);
  Deno.exit(2);
}
const write = args[0] === "--write";
const root = new URL("../", import.meta.url);
const dir = new URL(`${SCHEMAS_DIR}/`, root);

/** The entries of `schemas/` (text, or null for what is not a file); none if it is absent. */
async function readFiles(): Promise<Map<string, string | null>> {
  const files = new Map<string, string | null>();
  try {
    for await (const entry of Deno.readDir(dir)) {
      files.set(
        entry.name,
        entry.isFile ? await Deno.readTextFile(new URL(entry.name, dir)) : null,
      );
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return files;
}

const release = async (): Promise<SchemaRelease> => ({
  versions: SCHEMA_VERSIONS,
  newest: SCHEMA_VERSION,
  generated: (version) => releasedSchema(version as SchemaVersion),
  files: await readFiles(),
});

let failed = false;
if (write) {
  const { writes, refusals } = schemaWrites(await release(), formatSchema);
  if (writes.size > 0) await Deno.mkdir(dir, { recursive: true });
  for (const [path, text] of writes) {
    await Deno.writeTextFile(new URL(path, root), text);
    console.error(`schemas: wrote ${path}`);
  }
  for (const line of refusals) console.error(`schemas: ${line}`);
  failed = refusals.length > 0;
}

const problems = schemaProblems(await release());
if (problems.length > 0) {
  console.error(`schemas: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  Deno.exit(1);
}
if (failed) Deno.exit(1);
console.error(
  `schemas: ok (versions ${SCHEMA_VERSIONS.join(", ")} released, each backward compatible ` +
    "with the one before)",
);
