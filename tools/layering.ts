// deno-lint-ignore-file no-console -- a command-line check: its output is for the terminal
/**
 * `deno task check`'s layering check: reads every TypeScript file of the project, follows its
 * static imports, and fails naming the offending import when
 *
 * 1. modules import each other in a cycle;
 * 2. a pure stage imports a client library (the stages that decide, batch and validate stay
 *    testable without a broker, a database or S3: see `PURE` below);
 * 3. a `_`-prefixed file (private to its folder) is imported from outside its folder;
 * 4. an import climbs out of the project (`../../shared/x.ts` from `ingest/http/` is the
 *    project's own `shared/`; one more `../` would reach past the clone);
 * 5. a service imports another service (`ingest/` ↔ `worker/`), or anything imports a tool
 *    folder (`bench/`, `faults/`, `load/`, `tests/`, `tools/`) except those tools and tests;
 * 6. a data folder holds code (`schemas/` holds the released JSON contracts only);
 * 7. a floor imports a program (`shared/` and `fixes/` sit below `ingest/`, `worker/` and
 *    `console/`, tests included);
 * 8. product code (the programs and the floors) imports the test kit (`testing/`) or the local
 *    stack (`stack/`); their tests may.
 *
 * ```sh
 * deno run --allow-read tools/layering.ts [ROOT]
 * ```
 */
import { layeringProblems, readSources } from "./layering_rules.ts";

const root = Deno.args[0] ?? new URL("..", import.meta.url).pathname;
const problems = layeringProblems(await readSources(root));
if (problems.length > 0) {
  console.error(`layering: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  Deno.exit(1);
}
console.error("layering: ok");
