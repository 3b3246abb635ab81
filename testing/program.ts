/**
 * The test kit's one program starter: runs the pipeline's programs (`ingest`, `worker`) as real
 * processes with exactly the `deno run` flags of their `deno.json` task, so a test that passes
 * also proves the declared permissions are enough. Benchmarks start another checkout (a
 * baseline revision) the same way with `root`.
 *
 * The environment is `env` alone, plus PATH, HOME, DENO_DIR and DENO_TLS_CA_STORE, NO_COLOR=1
 * and a listener on 127.0.0.1, port 0 unless `env` says otherwise. A program logs JSON lines to
 * stderr and tells its port with `{"msg":"listening","port":N}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * declare const env: { KAFKA_BROKERS: string };
 *
 * const ingest = await startProgram("ingest", { KAFKA_BROKERS: env.KAFKA_BROKERS });
 * await fetch(`http://127.0.0.1:${ingest.port}/healthz`);
 * assert.equal((await ingest.stop()).code, 0);
 * ```
 */
import { ROOT } from "../stack/paths.ts";
import { type ProgramName, taskArgs } from "../stack/programs.ts";

export type { ProgramName };

/** One log line; a line that is not JSON is kept as `{ msg: "(raw)", raw }`. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

/** Options of `startProgram`. */
export interface StartOptions {
  /** The checkout whose `deno.json` and sources run, and the working folder (default: this). */
  root?: string;
  /** How long to wait for the "listening" line, in ms (default 60,000). */
  timeoutMs?: number;
  /**
   * Whether to wait for the "listening" line (default true). False returns at once, for a
   * program whose start is expected to fail.
   */
  listening?: boolean;
  /** Replaces the task's `--v8-flags` argument ("" drops it), for tuning runs. */
  v8Flags?: string;
  /**
   * Writes a V8 CPU profile (`.cpuprofile`, for Chrome DevTools' Performance tab) and its
   * Markdown summary (hot functions, call tree) into this folder when the program exits
   * (`deno run --cpu-prof-dir --cpu-prof-md`; a SIGKILL writes none). Default:
   * `$USER_PIPELINE_CPU_PROF_DIR/<name>` when that variable is set, so that a benchmark or test
   * run can profile every program it starts without a flag of its own; else no profile.
   */
  cpuProfileDir?: string;
  /** Arguments after the entry point. */
  extraArgs?: string[];
  /** The process's open-file limit (`ulimit -n`, through `sh`); default: the test's own. */
  openFiles?: number;
}

/** A running program. */
export interface RunningProgram {
  name: ProgramName;
  pid: number;
  /** The HTTP port of its "listening" line (NaN before that line). */
  readonly port: number;
  /** Every log line so far. */
  logs: LogLine[];
  /** Everything it wrote to stdout (the programs log to stderr: this should stay empty). */
  stdout(): string;
  /**
   * Resolves with the first log line that matches `match`.
   * @throws {Error} naming `what`, with the last log lines, after `timeoutMs` (default 30,000)
   * or when the program exits first.
   */
  waitForLog(
    match: (line: LogLine) => boolean,
    timeoutMs?: number,
    what?: string,
  ): Promise<LogLine>;
  /** Sends a signal (SIGKILL for a crash, SIGSTOP/SIGCONT for a pause); no-op once exited. */
  kill(signal: Deno.Signal): void;
  /** Resolves with the exit status once the process has exited and its output is read. */
  exited: Promise<Deno.CommandStatus>;
  /** Sends `signal` (default SIGTERM), SIGKILL after `graceMs` (default 20,000); the status. */
  stop(signal?: Deno.Signal, graceMs?: number): Promise<Deno.CommandStatus>;
}

/** Where each program listens unless the caller's environment says otherwise. */
const LISTEN: Record<ProgramName, Record<string, string>> = {
  ingest: { INGEST_HOST: "127.0.0.1", INGEST_PORT: "0" },
  worker: { WORKER_HOSTNAME: "127.0.0.1", WORKER_PORT: "0" },
  console: { CONSOLE_HOST: "127.0.0.1", CONSOLE_PORT: "0" },
};

/**
 * Starts program `name` with `env` and, unless `opts.listening` is false, waits for its
 * "listening" line.
 * @throws {Error} "`name` exited (code N) before listening" or "`name`: no listening in `ms`
 * ms", with its last log lines; the process is killed first.
 */
export async function startProgram(
  name: ProgramName,
  env: Record<string, string>,
  opts: StartOptions = {},
): Promise<RunningProgram> {
  const root = opts.root ?? ROOT;
  let args = taskArgs(name, root);
  if (opts.v8Flags !== undefined) {
    args = args.filter((a) => !a.startsWith("--v8-flags"));
    if (opts.v8Flags) args.splice(1, 0, opts.v8Flags);
  }
  const profileRoot = Deno.env.get("USER_PIPELINE_CPU_PROF_DIR");
  const profileDir = opts.cpuProfileDir ?? (profileRoot ? `${profileRoot}/${name}` : undefined);
  if (profileDir) args.splice(1, 0, `--cpu-prof-dir=${profileDir}`, "--cpu-prof-md");
  const argv = [Deno.execPath(), ...args, ...(opts.extraArgs ?? [])];
  const command = opts.openFiles === undefined
    ? argv
    : ["sh", "-c", `ulimit -n ${Math.floor(opts.openFiles)} && exec "$@"`, "sh", ...argv];
  const child = new Deno.Command(command[0]!, {
    args: command.slice(1),
    cwd: root,
    clearEnv: true,
    env: { ...inherited(), NO_COLOR: "1", ...LISTEN[name], ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  const decoder = new TextDecoder();
  let out = "";
  const stdoutDone = child.stdout.pipeTo(
    new WritableStream({ write: (chunk) => void (out += decoder.decode(chunk)) }),
  );
  const stderrDone = (async () => {
    let buffer = "";
    const lines = new TextDecoder();
    for await (const chunk of child.stderr) {
      buffer += lines.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!text.trim()) continue;
        let line: LogLine;
        try {
          line = JSON.parse(text);
        } catch {
          line = { msg: "(raw)", raw: text };
        }
        logs.push(line);
        for (const w of waiters) {
          if (w.match(line)) {
            waiters.delete(w);
            w.resolve(line);
          }
        }
      }
    }
  })();
  const exited = Promise.all([child.status, stdoutDone, stderrDone]).then(([status]) => status);

  const waitForLog = (
    match: (l: LogLine) => boolean,
    timeoutMs = 30_000,
    what = "matching log line",
  ) => {
    const found = logs.find(match);
    if (found) return Promise.resolve(found);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = { match, resolve: (l: LogLine) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`${name}: no ${what} in ${timeoutMs} ms${lastLines(logs)}`));
      }, timeoutMs);
      waiters.add(waiter);
      exited.then((s) => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${name} exited (code ${s.code}) before ${what}${lastLines(logs)}`));
      });
    });
  };

  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  };

  const stop = async (signal: Deno.Signal = "SIGTERM", graceMs = 20_000) => {
    kill(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killer = new Promise<void>((resolve) => {
      timer = setTimeout(() => (kill("SIGKILL"), resolve()), graceMs);
    });
    await Promise.race([exited, killer]);
    clearTimeout(timer);
    return await exited;
  };

  const program: RunningProgram = {
    name,
    pid: child.pid,
    get port() {
      return Number(logs.find((l) => l.msg === "listening")?.port ?? NaN);
    },
    logs,
    stdout: () => out,
    waitForLog,
    kill,
    exited,
    stop,
  };
  if (opts.listening === false) return program;
  try {
    await waitForLog((l) => l.msg === "listening", opts.timeoutMs ?? 60_000, "listening");
  } catch (err) {
    await stop("SIGKILL");
    throw err;
  }
  return program;
}

/**
 * The exit status of a program expected to end by itself, such as one whose start fails.
 * @throws {Error} with its last log lines when it is still running after `timeoutMs`; it is
 * killed first.
 */
export async function exitStatus(
  program: RunningProgram,
  timeoutMs: number,
): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), timeoutMs);
  });
  const status = await Promise.race([program.exited, late]);
  clearTimeout(timer);
  if (status !== "late") return status;
  await program.stop("SIGKILL");
  throw new Error(`${program.name} still ran after ${timeoutMs} ms${lastLines(program.logs)}`);
}

/**
 * Waits until `program` ends its start with exit 1, and returns the one error line it logged.
 * @throws {Error} with its log when it exits otherwise, logs no or several error lines, or still
 * runs after `timeoutMs`.
 */
export async function failedStart(program: RunningProgram, timeoutMs: number): Promise<LogLine> {
  const status = await exitStatus(program, timeoutMs);
  const logs = JSON.stringify(program.logs);
  if (status.code !== 1) throw new Error(`${program.name} exited ${status.code}, not 1: ${logs}`);
  const errors = program.logs.filter((l) => l.level === "error" || l.msg === "(raw)");
  if (errors.length !== 1) {
    throw new Error(`${program.name} logged ${errors.length} error lines, not one: ${logs}`);
  }
  return errors[0]!;
}

/** The warnings, errors and non-JSON lines among `logs` (to report beside a result). */
export function complaints(logs: readonly LogLine[]): LogLine[] {
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

function lastLines(logs: readonly LogLine[]): string {
  const tail = logs.slice(-10).map((l) => JSON.stringify(l)).join("\n");
  return tail ? `; last log lines:\n${tail}` : "";
}

/**
 * `err` with `program`'s last `lines` log lines appended: what a failed stack test shows of the
 * program's own account. Throw the result from a test's `catch`.
 */
export function withLogTail(err: unknown, program: RunningProgram | undefined, lines = 30): Error {
  const tail = program?.logs.slice(-lines).map((l) => JSON.stringify(l)).join("\n");
  const name = program?.name ?? "program";
  return new Error(`${(err as Error).message}\nlast ${name} log lines:\n${tail}`, { cause: err });
}
