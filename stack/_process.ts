/**
 * Process helpers for the local stack: start a detached server with its output in a log file,
 * check whether a pid is alive, stop it by pid, and wait for a TCP port.
 *
 * Servers are started in their own session (`setsid --fork`) so that they outlive the `deno` process
 * that started them (the stack is shared by `dev`, tests and later `up` calls) and are not hit
 * by a Ctrl-C meant for the terminal. A Kafka node is stopped by the pid recorded at start;
 * PostgreSQL, which `pg_ctl` may restart behind the stack's back, by its `postmaster.pid`.
 */

/** Raised when the stack cannot start; the message says what is missing and what to do. */
export class StackError extends Error {
  override name = "StackError";
}

/** Runs a command to completion and returns its output; throws StackError on failure. */
export async function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; what?: string } = {},
): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, {
      args,
      env: opts.env,
      cwd: opts.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) {
      throw new StackError(`Cannot run ${cmd}: it is not installed or not on PATH`, { cause });
    }
    throw cause;
  }
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new StackError(
      `${opts.what ?? cmd} failed (exit ${out.code}):\n${tail(text, 20)}`,
    );
  }
  return text;
}

/**
 * Starts `cmd args` detached, appending stdout and stderr to `logFile`, and returns its pid.
 * The pid is the server's own (the shell `exec`s it), so signals reach the server directly.
 */
export async function spawnDetached(
  cmd: string,
  args: string[],
  logFile: string,
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<number> {
  const pidFile = `${logFile}.pid`;
  await Deno.remove(pidFile).catch(() => {});
  const script = 'echo $$ > "$1"; log="$2"; shift 2; exec "$@" >>"$log" 2>&1 </dev/null';
  // `setsid --fork` returns at once and leaves the server as a child of init, not of this
  // process: nothing of it stays attached here (Deno's test sanitizers would see it).
  const forked = await new Deno.Command("setsid", {
    args: ["--fork", "sh", "-c", script, "sh", pidFile, logFile, cmd, ...args],
    env: opts.env,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!forked.success) {
    throw new StackError(`Cannot start ${cmd}: ${new TextDecoder().decode(forked.stderr)}`);
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const text = await Deno.readTextFile(pidFile).catch(() => "");
    const pid = Number.parseInt(text.trim(), 10);
    if (pid > 0) return pid;
    await delay(20);
  }
  throw new StackError(`Cannot start ${cmd}: no pid after 5 s (see ${logFile})`);
}

/**
 * True when a process with this pid exists and has threads running. Asks `ps`, because Deno
 * grants reads under /proc only with --allow-all.
 */
export async function isAlive(pid: number | undefined): Promise<boolean> {
  if (!pid) return false;
  const out = await new Deno.Command("ps", {
    args: ["-o", "stat=", "-p", String(pid)],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const state = new TextDecoder().decode(out.stdout).trim();
  // `Zl`: the main thread has exited but other threads still run (a JVM in its shutdown hooks,
  // holding its ports): alive. A plain `Z` has exited and waits to be reaped.
  const zombie = state.startsWith("Z") && !state.includes("l");
  return out.success && state !== "" && !zombie && !state.startsWith("X");
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. Resolves when the pid is gone. */
export async function stopPid(pid: number | undefined, graceMs = 20_000): Promise<void> {
  if (!(await isAlive(pid))) return;
  signal(pid!, "SIGTERM");
  if (await waitFor(async () => !(await isAlive(pid)), graceMs)) return;
  signal(pid!, "SIGKILL");
  if (!(await waitFor(async () => !(await isAlive(pid)), 5_000))) {
    throw new StackError(`Cannot stop pid ${pid}: still alive after SIGKILL`);
  }
}

/** Sends a signal, ignoring a process that is already gone. */
export function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export async function isListening(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** True when `path` exists (a file or a folder). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A loopback port that is free right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Polls `check` every 100 ms until it is true or `timeoutMs` passes; returns the last result. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await delay(100);
  }
}

/** The last `lines` lines of a text, for error messages. */
export function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** The last lines of a log file, or a note that there is none. */
export async function tailFile(path: string, lines = 15): Promise<string> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text ? tail(text, lines) : `(no output in ${path})`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
