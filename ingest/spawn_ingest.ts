/**
 * Runs `ingest/main.ts` as a child process with exactly the permission flags of
 * `deno task ingest`, and finds the port it listens on from its `listening` log line.
 * Used by the subprocess tests and the benchmark; not by the service itself.
 */

/** A running ingest process. */
export interface IngestProcess {
  pid: number;
  port: number;
  /** Every log line so far (parsed JSON, or `{ msg: raw }` for a non-JSON line). */
  logs: Record<string, unknown>[];
  /** Everything the process wrote to stdout (should stay empty). */
  stdout(): string;
  /** Sends a signal. */
  kill(signal?: Deno.Signal): void;
  /** Resolves with the exit status once the process and its output pipes are done. */
  status: Promise<Deno.CommandStatus>;
}

const ROOT = new URL("..", import.meta.url);

/** The permission flags of the `ingest` task in deno.json (the words between `run` and the file). */
export async function ingestTaskFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const command = String(config.tasks.ingest.command ?? config.tasks.ingest);
  const words = command.split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("ingest/main.ts"));
}

/**
 * Starts the ingest with `env` (nothing else is inherited) and waits for its `listening`
 * line.
 * @throws {Error} with the last log lines when it exits or does not listen within `ms`.
 */
export async function spawnIngest(
  env: Record<string, string>,
  ms = 30_000,
): Promise<IngestProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(await ingestTaskFlags()), "ingest/main.ts"],
    cwd: ROOT.pathname,
    env: { INGEST_PORT: "0", NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  const listening = Promise.withResolvers<number>();
  const decoder = new TextDecoder();
  let out = "";
  const stdoutDone = child.stdout.pipeTo(
    new WritableStream({ write: (chunk) => void (out += decoder.decode(chunk)) }),
  );
  const stderrDone = (async () => {
    let rest = "";
    for await (const chunk of child.stderr) {
      rest += decoder.decode(chunk, { stream: true });
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = { msg: line };
        }
        logs.push(entry);
        if (entry.msg === "listening" && typeof entry.port === "number") {
          listening.resolve(entry.port);
        }
      }
    }
  })();
  const status = Promise.all([child.status, stdoutDone, stderrDone]).then(([s]) => s);
  status.then((s) =>
    listening.reject(
      new Error(
        `ingest exited (code ${s.code}) before listening:\n${
          logs.map((l) => JSON.stringify(l)).join("\n")
        }`,
      ),
    )
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`ingest did not listen within ${ms} ms`)), ms);
  });
  try {
    const port = await Promise.race([listening.promise, timeout]);
    return {
      pid: child.pid,
      port,
      logs,
      stdout: () => out,
      kill: (signal = "SIGTERM") => child.kill(signal),
      status,
    };
  } catch (err) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await status;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
