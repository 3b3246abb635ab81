/**
 * `deno task compile`: builds `dist/ingest`, `dist/worker` and `dist/console` with `deno compile`,
 * each with exactly the permission flags of its `deno.json` task, so the binary and its task
 * cannot drift apart.
 *
 * `deno compile` embeds a runtime (`denort`) that it downloads from dl.deno.land for the
 * running Deno version. On a machine without that access, download
 * `denort-x86_64-unknown-linux-gnu.zip` for the same version elsewhere, unzip it, and point
 * `DENORT_BIN` at the binary; `deno compile` then needs no network.
 */
// deno-lint-ignore-file no-console -- a command-line tool: its output is for the terminal
import { type ProgramName, taskArgs } from "./programs.ts";
import { ROOT } from "./stack.ts";

/** Modules loaded at run time (not by a static import) that the binary must carry. */
const INCLUDES: Record<ProgramName, string[]> = {
  ingest: ["ingest/produce/producer_thread.ts"],
  worker: [],
  // The page's files, which the console reads (and serves) at start from next to its code.
  console: ["console/static/"],
};

/** The `deno compile` arguments for one program, from its task's `deno run` arguments. */
export function compileArgs(name: ProgramName, outDir = "dist"): string[] {
  const runArgs = taskArgs(name).slice(1); // drop "run"
  const entry = runArgs.at(-1)!;
  const flags = runArgs.slice(0, -1);
  return [
    "compile",
    ...flags,
    ...INCLUDES[name].flatMap((file) => ["--include", file]),
    "--output",
    `${outDir}/${name}`,
    entry,
  ];
}

if (import.meta.main) {
  let failed = false;
  for (const name of ["ingest", "worker", "console"] as const) {
    const args = compileArgs(name);
    console.log(`deno ${args.join(" ")}`);
    const out = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdout: "inherit" })
      .output();
    const stderr = new TextDecoder().decode(out.stderr);
    if (!out.success) {
      failed = true;
      console.error(stderr.split("\nStack backtrace:")[0]);
      if (/dl\.deno\.land|denort/.test(stderr) && !Deno.env.get("DENORT_BIN")) {
        console.error(
          `Cannot download the Deno runtime for ${name}: this machine cannot reach ` +
            "dl.deno.land. Fetch denort for Deno " + Deno.version.deno +
            " elsewhere and set DENORT_BIN to it (see docs/deploy.md, Single binaries).",
        );
      }
    }
  }
  Deno.exit(failed ? 1 : 0);
}
