/**
 * Runs the pipeline's programs (`ingest`, `worker`) as real processes for tests and benchmarks,
 * with exactly the permission flags their `deno.json` task declares, so a test that passes also
 * proves the declared permissions are enough.
 *
 * A program logs JSON lines to stderr; `{"msg":"listening","port":N}` tells its HTTP port.
 *
 * @example
 * ```ts
 * const ingest = await startProgram("ingest", { KAFKA_BROKERS: env.KAFKA_BROKERS, INGEST_PORT: "0" });
 * await fetch(`http://127.0.0.1:${ingest.port}/healthz`);
 * await ingest.stop();
 * ```
 */
import { ROOT } from "./paths.ts";

/** A program of the pipeline, by its `deno.json` task name. */
export type ProgramName = "ingest" | "worker";

/** One parsed JSON log line. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

/** A running program. */
export interface RunningProgram {
  name: ProgramName;
  pid: number;
  /** The HTTP port it reported in its "listening" log line. */
  port: number;
  /** Every JSON log line so far (non-JSON lines are kept as `{ msg: "(raw)", raw }`). */
  logs: LogLine[];
  /** Resolves with the first log line that matches, or rejects after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal (SIGKILL for a crash, SIGSTOP/SIGCONT for a pause). */
  kill(signal: Deno.Signal): void;
  /** Resolves when the process has exited, with its status. */
  exited: Promise<Deno.CommandStatus>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status. */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
}

/**
 * The `deno run` arguments (`run`, flags, entry point) of `task` in the `deno.json` of `root`
 * (default this checkout; a benchmark passes a baseline revision's folder).
 * @throws {Error} when there is no such task or it is not a plain `deno run`.
 */
export function taskArgs(task: string, root = ROOT): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`));
  const entry = config.tasks?.[task];
  const command: string | undefined = typeof entry === "string" ? entry : entry?.command;
  if (!command) throw new Error(`${root}/deno.json has no task "${task}"`);
  const words = command.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run") {
    throw new Error(`task "${task}" is not a plain "deno run": ${command}`);
  }
  return words.slice(1);
}

/**
 * Starts a program with `env` as its whole environment (plus PATH and HOME) and waits for its
 * "listening" line.
 * @throws {Error} with the program's last log lines when it exits or does not listen in time.
 */
export async function startProgram(
  name: ProgramName,
  env: Record<string, string>,
  opts: { timeoutMs?: number; extraArgs?: string[] } = {},
): Promise<RunningProgram> {
  const args = taskArgs(name);
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args, ...(opts.extraArgs ?? [])],
    cwd: ROOT,
    clearEnv: true,
    env: { ...inherited(["PATH", "HOME", "DENO_DIR", "DENO_TLS_CA_STORE"]), NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();

  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  const reading = (async () => {
    let buffer = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      buffer += decoder.decode(chunk, { stream: true });
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
  const exited = child.status.then(async (status) => {
    await reading;
    return status;
  });

  const waitForLog = (match: (l: LogLine) => boolean, timeoutMs = 30_000) => {
    const found = logs.find(match);
    if (found) return Promise.resolve(found);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = { match, resolve: (l: LogLine) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`${name}: no matching log line in ${timeoutMs} ms${lastLines(logs)}`));
      }, timeoutMs);
      waiters.add(waiter);
      exited.then((s) => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${name} exited (code ${s.code}) before logging it${lastLines(logs)}`));
      });
    });
  };

  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  };

  const stop = async (graceMs = 15_000) => {
    kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killer = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        kill("SIGKILL");
        resolve();
      }, graceMs);
    });
    await Promise.race([exited, killer]);
    clearTimeout(timer);
    return await exited;
  };

  let listening: LogLine;
  try {
    listening = await waitForLog((l) => l.msg === "listening", opts.timeoutMs ?? 60_000);
  } catch (err) {
    await stop(2_000);
    throw err;
  }
  return {
    name,
    pid: child.pid,
    port: Number(listening.port),
    logs,
    waitForLog,
    kill,
    exited,
    stop,
  };
}

function inherited(keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = Deno.env.get(key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function lastLines(logs: LogLine[]): string {
  const tail = logs.slice(-10).map((l) => JSON.stringify(l)).join("\n");
  return tail ? `; last log lines:\n${tail}` : "";
}
