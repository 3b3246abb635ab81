/**
 * The rules of the layering check (see `layering.ts`), as pure functions over the sources.
 */

/** One project file's path (from the root, `/`-separated) and text. */
export type Sources = ReadonlyMap<string, string>;

/** An import of one module by another. */
export interface Import {
  from: string;
  /** A project path for a relative import, else the specifier as written. */
  to: string;
  /** `import type` / `export type`: gone at run time. */
  typeOnly: boolean;
}

/**
 * Client libraries: what the pure stages must not load. Tracing reaches them through the port
 * `shared/tracing.ts`; only `shared/otel_tracing.ts` loads `@opentelemetry/api`.
 */
export const CLIENT_LIBRARIES = [
  "postgres",
  "@platformatic/kafka",
  "aws4fetch",
  "@opentelemetry/api",
];

/**
 * The pure stages: they decide, batch, decode and validate, and are tested without a broker,
 * a database or S3. Folder prefixes end with `/`.
 */
export const PURE = [
  "worker/batch/",
  "worker/decode/",
  "worker/failure.ts",
  "ingest/http/",
  "shared/event.ts",
  "shared/field_patterns.ts",
  "shared/config.ts",
  "shared/logger.ts",
  "shared/metrics.ts",
  "shared/tracing.ts",
  "shared/dead_letter_headers.ts",
  "shared/record_headers.ts",
  // The console decides and renders from what small interfaces give it: sampling, rates, lag,
  // the HTTP routes and the event stream; its Kafka, metrics and warehouse readers sit in
  // console/sources/ behind those interfaces.
  "console/live/",
  "console/http/",
  "console/deadletters/",
  "console/records/",
  "console/find/",
  "console/sources/metrics_text.ts",
  "console/sources/instance_probe.ts",
  "console/sources/pull_runs.ts",
];

/** The programs: none imports another (shared code lives in `shared/`). */
const SERVICES = ["ingest", "worker", "console"];
/** Tool folders: only tools import them. */
const TOOLS = ["bench", "faults", "load", "tests", "tools"];

/**
 * The floors: folders every program builds on (`shared/`: the common pieces; `fixes/`: the
 * workarounds for dependencies' bugs). They import no program, so a program is free to change
 * without a floor moving under the others.
 */
const FLOORS = ["shared", "fixes"];
/** Product code: what a user runs. It never loads the test kit or the local stack. */
const PRODUCT = [...SERVICES, ...FLOORS];
/** What only tests and tools load (`testing/`: the test kit; `stack/`: the local stack). */
const TEST_ONLY = ["testing", "stack"];

/** Data folders: what they hold is read, never run (`schemas/`: the released contracts). */
const DATA = ["schemas"];

const SKIP_DIRS = new Set([".git", ".stack", ".notes", "node_modules", "terraform", "dist"]);

/** Reads every `.ts` file under `root`, skipping state and vendored folders. */
export async function readSources(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string, rel: string) => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) {
        if (!SKIP_DIRS.has(entry.name)) {
          await walk(`${dir}/${entry.name}`, `${rel}${entry.name}/`);
        }
      } else if (entry.isFile && entry.name.endsWith(".ts")) {
        out.set(`${rel}${entry.name}`, await Deno.readTextFile(`${dir}/${entry.name}`));
      }
    }
  };
  await walk(root.replace(/\/$/, ""), "");
  return out;
}

const IMPORT =
  /(?:^|[\s;])(import|export)(\s+type)?\s+(?:[\w*${}\s,]+?\s+from\s+)?["']([^"']+)["']/g;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The imports of one file (comments are skipped; dynamic imports count as runtime). */
export function importsOf(path: string, text: string): Import[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: Import[] = [];
  const add = (specifier: string, typeOnly: boolean) =>
    out.push({ from: path, to: resolve(path, specifier), typeOnly });
  for (const m of code.matchAll(IMPORT)) add(m[3]!, m[2] !== undefined);
  for (const m of code.matchAll(DYNAMIC)) add(m[1]!, false);
  return out;
}

/** Where a relative import that climbs above the project root resolves (see `OUTSIDE`). */
export const OUTSIDE = "../";

/**
 * A relative specifier as a project path (prefixed with `OUTSIDE` when it leaves the project,
 * which a user's clone has nothing beside); anything else as written.
 */
function resolve(from: string, specifier: string): string {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return specifier;
  const parts = from.split("/").slice(0, -1);
  for (const segment of specifier.split("/")) {
    if (segment === "..") {
      if (parts.length === 0) return OUTSIDE + specifier;
      parts.pop();
    } else if (segment !== ".") parts.push(segment);
  }
  return parts.join("/");
}

const folder = (path: string) => path.split("/").slice(0, -1).join("/");
const top = (path: string) => path.includes("/") ? path.split("/")[0]! : "";
const library = (specifier: string) =>
  CLIENT_LIBRARIES.find((l) =>
    specifier === l || specifier.startsWith(`${l}/`) || specifier.startsWith(`npm:${l}@`) ||
    specifier === `npm:${l}`
  );
const isPure = (path: string) =>
  PURE.some((p) => p.endsWith("/") ? path.startsWith(p) : path === p);

/** Every problem, each naming the file and the import. */
export function layeringProblems(sources: Sources): string[] {
  const imports = [...sources].flatMap(([path, text]) => importsOf(path, text));
  const problems: string[] = [];
  const runtime = new Map<string, string[]>();
  for (const i of imports) {
    if (i.to.startsWith(OUTSIDE)) {
      problems.push(`${i.from} imports ${i.to.slice(OUTSIDE.length)}: outside the project`);
      continue;
    }
    const local = sources.has(i.to);
    if (local && !i.typeOnly) runtime.set(i.from, [...runtime.get(i.from) ?? [], i.to]);
    const name = i.to.split("/").at(-1)!;
    if (local && name.startsWith("_") && folder(i.to) !== folder(i.from)) {
      problems.push(`${i.from} imports ${i.to}: a _ file is private to its folder`);
    }
    if (local && SERVICES.includes(top(i.from)) && SERVICES.includes(top(i.to))) {
      if (top(i.from) !== top(i.to)) {
        problems.push(`${i.from} imports ${i.to}: one program imports another`);
      }
    }
    if (local && FLOORS.includes(top(i.from)) && SERVICES.includes(top(i.to))) {
      problems.push(`${i.from} imports ${i.to}: ${top(i.from)}/ imports no program`);
    }
    const tool = TOOLS.includes(top(i.from)) || i.from.endsWith("_test.ts");
    if (local && PRODUCT.includes(top(i.from)) && TEST_ONLY.includes(top(i.to)) && !tool) {
      problems.push(`${i.from} imports ${i.to}: product code imports no ${top(i.to)}/`);
    }
    if (local && TOOLS.includes(top(i.to)) && !tool) {
      problems.push(`${i.from} imports ${i.to}: only tools import ${top(i.to)}/`);
    }
  }
  for (const path of sources.keys()) {
    if (DATA.includes(top(path))) problems.push(`${path}: ${top(path)}/ holds data, not code`);
  }
  // Pure stages: no client library on any runtime path.
  for (const path of sources.keys()) {
    if (!isPure(path)) continue;
    const seen = new Set<string>();
    const stack: { at: string; via: string[] }[] = [{ at: path, via: [path] }];
    while (stack.length > 0) {
      const { at, via } = stack.pop()!;
      if (seen.has(at)) continue;
      seen.add(at);
      for (const i of imports) {
        if (i.from !== at || i.typeOnly) continue;
        const lib = library(i.to);
        if (lib) {
          problems.push(`${path} loads ${lib} (${[...via].join(" -> ")}): a pure stage`);
        } else if (sources.has(i.to)) stack.push({ at: i.to, via: [...via, i.to] });
      }
    }
  }
  problems.push(...cycles(runtime));
  return [...new Set(problems)];
}

/** Import cycles among runtime imports, each as `a -> b -> a`. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const found: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === "open") {
        found.push(`import cycle: ${[...path.slice(path.indexOf(next)), next].join(" -> ")}`);
      } else if (s === undefined) visit(next);
    }
    path.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}
