/**
 * What `tools/schemas.ts` decides, as pure functions over what it read: the problems of the
 * released files against the code (`schemaProblems`), and which files `--write` may write
 * (`schemaWrites`). Every problem is one line that names the file and a JSONPath.
 */
import { brief, isObject, type Json, jsonDifferences, type JsonSchema } from "./_json.ts";
import { formatIncompatibility } from "./schema_compat.ts";
import {
  SCHEMA_FILE,
  schemaFileName,
  SCHEMAS_DIR,
  versionIncompatibilities,
} from "./released_schemas.ts";

/** What the check reads: the code's versions and schemas, and the files of `schemas/`. */
export interface SchemaRelease {
  /** `SCHEMA_VERSIONS`. */
  versions: readonly number[];
  /** `SCHEMA_VERSION`. */
  newest: number;
  /** The contract each listed version generates (`releasedSchema`). */
  generated: (version: number) => JsonSchema;
  /** Each entry of `schemas/` by name: its text, or null for what is not a file. */
  files: ReadonlyMap<string, string | null>;
}

/** At most this many differences are listed per file (the rest are counted). */
const MAX_DIFFERENCES = 12;

const RELEASE = "release a new version (bump SCHEMA_VERSION, add it to SCHEMA_VERSIONS, run " +
  "`deno task schemas --write`) or undo the change";

const pathOf = (version: number) => `${SCHEMAS_DIR}/${schemaFileName(version)}`;

/**
 * Every problem, one line each: (a) a listed version without a file, or whose generated
 * schema differs from its file; (b) a file for a version the code does not list, or that is
 * no released schema at all; (c) a version that refuses events of the version before it.
 */
export function schemaProblems(release: SchemaRelease): string[] {
  const { versions, newest, files } = release;
  const problems: string[] = [];
  if (versions.length === 0 || versions.some((v, i) => v !== i + 1) || versions.at(-1) !== newest) {
    problems.push(
      `shared/event.ts: $: SCHEMA_VERSIONS (${versions.join(", ")}) must be 1 to ` +
        `SCHEMA_VERSION (${newest}), in order`,
    );
  }
  for (const [name, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const version = Number(SCHEMA_FILE.exec(name)?.[1]);
    const path = `${SCHEMAS_DIR}/${name}`;
    if (text === null || !SCHEMA_FILE.test(name)) {
      problems.push(
        `${path}: $: not a released schema (${SCHEMAS_DIR}/ holds only ` +
          "user_created.v<N>.json files)",
      );
    } else if (!versions.includes(version)) {
      problems.push(
        `${path}: $: version ${version} is not in SCHEMA_VERSIONS ` +
          `(${versions.join(", ")}): a released version stays readable; list it again in ` +
          "shared/event.ts, or delete the file if it was never released",
      );
    }
  }
  for (const version of versions) {
    const text = files.get(schemaFileName(version));
    const path = pathOf(version);
    if (text === undefined) {
      problems.push(
        `${path}: $: missing: version ${version} is in SCHEMA_VERSIONS; run ` +
          "`deno task schemas --write`",
      );
      continue;
    }
    if (text === null) continue;
    const released = parse(text);
    if (typeof released === "string") {
      problems.push(`${path}: $: ${released}`);
      continue;
    }
    const differences = jsonDifferences(released, release.generated(version) as Json);
    for (const d of differences.slice(0, MAX_DIFFERENCES)) {
      problems.push(
        `${path}: ${d.path}: the zod schema differs from the released ${path} ` +
          `(file: ${show(d.left)}, code: ${show(d.right)}): ${RELEASE}`,
      );
    }
    if (differences.length > MAX_DIFFERENCES) {
      problems.push(`${path}: $: ... and ${differences.length - MAX_DIFFERENCES} more differences`);
    }
  }
  problems.push(...compatibilityProblems(release).map((p) => p.line));
  return problems;
}

/**
 * The files `--write` writes (path → text): those of the listed versions that have none and
 * are backward compatible with the version before. What it refuses, one line each: a released
 * file that differs from the code (never rewritten) and an incompatible version (whose
 * reasons `schemaProblems` gives).
 */
export function schemaWrites(
  release: SchemaRelease,
  format: (schema: JsonSchema) => string,
): { writes: Map<string, string>; refusals: string[] } {
  const writes = new Map<string, string>();
  const refusals: string[] = [];
  const incompatible = new Set(compatibilityProblems(release).map((p) => p.version));
  for (const version of release.versions) {
    const path = pathOf(version);
    const text = release.files.get(schemaFileName(version));
    const generated = release.generated(version);
    if (text === undefined) {
      if (incompatible.has(version)) {
        refusals.push(
          `${path}: $: not written: version ${version} refuses events of the ` +
            "version before it (see the problems)",
        );
      } else writes.set(path, format(generated));
    } else if (
      text !== null && jsonDifferences(parse(text) as Json, generated as Json).length > 0
    ) {
      refusals.push(
        `${path}: $: released, and the zod schema differs from it: --write never ` +
          `rewrites a released file; ${RELEASE}`,
      );
    }
  }
  return { writes, refusals };
}

/** (c): each listed version against the one before, as released (or generated, if unwritten). */
function compatibilityProblems(release: SchemaRelease): { version: number; line: string }[] {
  const schemaOf = (version: number): JsonSchema | undefined => {
    const text = release.files.get(schemaFileName(version));
    if (text === undefined) return release.generated(version);
    const parsed = text === null ? undefined : parse(text);
    return isObject(parsed) || typeof parsed === "boolean" ? parsed : undefined;
  };
  const problems: { version: number; line: string }[] = [];
  const versions = release.versions;
  for (let i = 1; i < versions.length; i++) {
    const [older, newer] = [schemaOf(versions[i - 1]!), schemaOf(versions[i]!)];
    if (older === undefined || newer === undefined) continue; // reported as unreadable
    const unwritten = release.files.has(schemaFileName(versions[i]!)) ? "" : " (not written yet)";
    for (const incompatibility of versionIncompatibilities(older, newer)) {
      problems.push({
        version: versions[i]!,
        line: `${pathOf(versions[i]!)}${unwritten}: ${formatIncompatibility(incompatibility)} ` +
          `(not backward compatible with version ${versions[i - 1]})`,
      });
    }
  }
  return problems;
}

function parse(text: string): Json | string {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
}

function show(value: Json | undefined): string {
  return value === undefined ? "absent" : brief(value);
}
