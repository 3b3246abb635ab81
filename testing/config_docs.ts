/**
 * The test kit's reader of `docs/configuration.md`: the variables its tables document, section
 * by section (`<!-- section:NAME -->` … `<!-- /section:NAME -->`), so that each program's test
 * can hold its config schema against its own section and the shared Kafka one.
 *
 * @example
 * ```ts
 * const listed = await documentedVariables("worker-config", "kafka-config");
 * ```
 */
import { ROOT } from "../stack/paths.ts";

/**
 * The variables in the first column of the tables of the named sections, sorted.
 * @throws {Error} naming a section that is missing.
 */
export async function documentedVariables(...sections: string[]): Promise<string[]> {
  const doc = await Deno.readTextFile(`${ROOT}/docs/configuration.md`);
  return sections.flatMap((name) => {
    const start = doc.indexOf(`<!-- section:${name} -->`);
    const end = doc.indexOf(`<!-- /section:${name} -->`);
    if (start < 0 || end < start) throw new Error(`docs/configuration.md has no ${name} section`);
    return [...doc.slice(start, end).matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]!);
  }).toSorted();
}
