/**
 * Starts the `ingest` or `worker` program of a checkout (this repository or an older revision
 * from `revision_tree.ts`) with exactly the `deno run` flags of that checkout's `deno.json`
 * task, from that checkout's folder, so that the same benchmark measures both the same way.
 *
 * The environment is `env` plus PATH, HOME, DENO_DIR and DENO_TLS_CA_STORE; the program logs
 * JSON lines to stderr and tells its port with `{"msg":"listening","port":N}`.
 */

/** One log line (non-JSON lines are kept as `{ msg: "(raw)", raw }`). */
export type TaskLogLine = Record<string, unknown> & { msg?: string; level?: string };

/** A program running from a checkout. */
export interface TaskProcess {
  pid: number;
  /** The port of its "listening" line. */
  port: number;
  logs: TaskLogLine[];
  /** Resolves with the first matching log line; rejects after `ms` or when the program exits. */
  waitForLog(match: (line: TaskLogLine) => boolean, ms: number, what: string): Promise<TaskLogLine>;
  /** Resolves when the process has exited and its log is read. */
  exited: Promise<Deno.CommandStatus>;
  /** Sends `signal` (SIGKILL after `graceMs`) and resolves with the exit status. */
  stop(signal?: Deno.Signal, graceMs?: number): Promise<Deno.CommandStatus>;
}

/** The `deno run` arguments (`run`, flags, entry point) of `task` in `root`'s deno.json. */
export async function taskRunArgs(root: string, task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
  const entry = config.tasks?.[task];
  const command: string | undefined = typeof entry === "string" ? entry : entry?.command;
  if (!command) throw new Error(`${root}/deno.json has no task "${task}"`);
  const words = command.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run") {
    throw new Error(`task "${task}" in ${root} is not a plain "deno run": ${command}`);
  }
  return words.slice(1);
}

/**
 * Starts `task` of the checkout at `root` and waits for its "listening" line. `v8Flags`
 * replaces the task's `--v8-flags` ("" drops them), for tuning runs.
 * @throws {Error} with its last log lines when it exits or does not listen within `timeoutMs`.
 */
export async function startTask(
  root: string,
  task: "ingest" | "worker",
  env: Record<string, string>,
  opts: { timeoutMs?: number; v8Flags?: string } = {},
): Promise<TaskProcess> {
  let args = await taskRunArgs(root, task);
  if (opts.v8Flags !== undefined) {
    args = args.filter((a) => !a.startsWith("--v8-flags"));
    if (opts.v8Flags) args.splice(1, 0, opts.v8Flags);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    clearEnv: true,
    env: { ...inherited(), NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logs: TaskLogLine[] = [];
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const text = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        if (!text.trim()) continue;
        try {
          logs.push(JSON.parse(text));
        } catch {
          logs.push({ msg: "(raw)", raw: text });
        }
      }
    }
  })();
  const exited = child.status.then(async (status) => (await reading, status));
  let gone = false;
  exited.then(() => gone = true);

  const waitForLog = async (match: (l: TaskLogLine) => boolean, ms: number, what: string) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = logs.find(match);
      if (found) return found;
      if (gone) throw new Error(`${task} exited before ${what}${lastLines(logs)}`);
      if (Date.now() > deadline) {
        throw new Error(`${task}: no ${what} in ${ms} ms${lastLines(logs)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const stop = async (signal: Deno.Signal = "SIGTERM", graceMs = 20_000) => {
    const kill = (s: Deno.Signal) => {
      try {
        child.kill(s);
      } catch { /* already gone */ }
    };
    kill(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killer = new Promise<void>((resolve) => {
      timer = setTimeout(() => (kill("SIGKILL"), resolve()), graceMs);
    });
    await Promise.race([exited, killer]);
    clearTimeout(timer);
    return await exited;
  };

  try {
    const listening = await waitForLog(
      (l) => l.msg === "listening",
      opts.timeoutMs ?? 60_000,
      '"listening"',
    );
    return { pid: child.pid, port: Number(listening.port), logs, waitForLog, exited, stop };
  } catch (err) {
    await stop("SIGKILL");
    throw err;
  }
}

/** Warnings, errors and non-JSON lines a program logged (to report beside its numbers). */
export function complaints(logs: readonly TaskLogLine[]): TaskLogLine[] {
  return logs.filter((l) => l.level === "warn" || l.level === "error" || l.msg === "(raw)");
}

function inherited(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "DENO_DIR", "DENO_TLS_CA_STORE"]) {
    const value = Deno.env.get(key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function lastLines(logs: readonly TaskLogLine[]): string {
  const tail = logs.slice(-10).map((l) => JSON.stringify(l)).join("\n");
  return tail ? `; last log lines:\n${tail}` : "";
}
