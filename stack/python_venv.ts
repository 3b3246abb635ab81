/**
 * Python tools the tests take from PyPI (moto, openapi-spec-validator), each installed once into
 * its own virtual environment in the stack's cache: `python3 -m venv`, then `pip install` of a
 * pinned requirements file, into a temporary folder renamed into place, so a concurrent or
 * interrupted install never leaves a half-made one behind. Later calls only check a marker file.
 */
import { cacheDir } from "./kafka.ts";
import { exists, run, StackError } from "./_process.ts";

/** One Python tool and the pinned set that installs it. */
export interface PythonTool {
  /** The PyPI package the set is for, e.g. `moto`; names the cache folder and the errors. */
  package: string;
  /** Its pinned release, also pinned in `requirements`. */
  version: string;
  /** What the tests use it for, for the error that says Python is missing. */
  purpose: string;
  /** A requirements file that pins every package of the set (`pip freeze`). */
  requirements: URL;
}

/**
 * Makes sure `tool` is installed in the cache; returns its venv's `python`. The interpreter is
 * `$PYTHON`, else `python3`.
 * @throws {StackError} when python3, its venv module or pip is missing, or pip fails.
 */
export async function ensurePythonTool(tool: PythonTool): Promise<string> {
  const home = `${cacheDir()}/${tool.package}-${tool.version}`;
  const python = `${home}/venv/bin/python`;
  if (await exists(`${home}/complete`)) return python;
  const work = `${home}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(work, { recursive: true });
  try {
    const interpreter = Deno.env.get("PYTHON") ?? "python3";
    try {
      await run(interpreter, ["-m", "venv", `${work}/venv`], { what: `${interpreter} -m venv` });
    } catch (err) {
      const missing = err instanceof StackError && err.message.startsWith("Cannot run");
      throw new StackError(
        missing
          ? `Cannot install ${tool.package} (${tool.purpose}): ${interpreter} is not installed. ` +
            "Install Python 3 with venv and pip (Debian: apt-get install python3 python3-venv), " +
            "or set PYTHON to an interpreter."
          : `Cannot install ${tool.package}: ${interpreter} -m venv failed; its venv module or ` +
            `ensurepip is missing (Debian: apt-get install python3-venv).\n${
              (err as Error).message
            }`,
        { cause: err },
      );
    }
    await run(`${work}/venv/bin/python`, [
      "-m",
      "pip",
      "install",
      "--quiet",
      "--disable-pip-version-check",
      "--no-input",
      "--requirement",
      tool.requirements.pathname,
    ], { what: `pip install ${tool.package} ${tool.version} (from PyPI)` });
    await Deno.writeTextFile(`${work}/complete`, new Date().toISOString());
    // A venv's own `python` finds its packages from where it lies, so the folder may move
    // (its console scripts would not: they are never used).
    await Deno.rename(work, home).catch(async (err) => {
      if (!(await exists(`${home}/complete`))) throw err; // else another process won the race
    });
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  return python;
}
