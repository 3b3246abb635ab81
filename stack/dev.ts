// deno-lint-ignore-file no-console -- a command-line tool: its output is for the terminal
/**
 * `deno task dev [--name NAME]`: brings the local stack up, then runs the ingest and the worker
 * on it, then the console watching them, each with the permission flags of its own `deno.json`
 * task, and stops all three on Ctrl-C or SIGTERM.
 *
 * - Both listen on 127.0.0.1 and the webhook requires signatures with a development secret
 *   (generated once, kept in `.stack/<name>/dev.env`); the environment overrides any of it, so
 *   `INGEST_PORT=8081 deno task dev` or `INGEST_ALLOW_UNSIGNED=true deno task dev` work.
 * - A start that fails (a program exits before it listens) stops the other programs, and stops
 *   the stack too when this run started it.
 * - Ctrl-C stops the programs and leaves Kafka and PostgreSQL running for the next run.
 *
 * The task grants `--allow-run` for this Deno binary only (`Deno.execPath()`, resolved by the
 * task itself), so it works whether `deno` on PATH is npm's wrapper, a symlink or the binary.
 */
import { parseCommandLine } from "../shared/command_line.ts";
import {
  consoleEnv,
  devBanner,
  devEnv,
  newWebhookSecret,
  parseEnvFile,
  programEnv,
} from "./dev_env.ts";
import { taskArgs } from "./programs.ts";
import { stackDir } from "./paths.ts";

const { values } = parseCommandLine({
  args: Deno.args,
  options: { name: { type: "string", default: "local" } },
}, "usage: deno task dev [--name NAME]");
const name = values.name!;
const dir = stackDir(name);
const deno = Deno.execPath();

/** Runs `deno task stack …`, passing its output through; returns its stdout and status. */
async function stack(args: string[]): Promise<{ ok: boolean; out: string }> {
  const out = await new Deno.Command(deno, {
    args: ["task", "-q", "stack", ...args, "--name", name],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  await Deno.stdout.write(out.stdout);
  return { ok: out.success, out: text };
}

const up = await stack(["up"]);
if (!up.ok) Deno.exit(1);
const startedStack = !up.out.includes("is already running");

async function devSecret(): Promise<string> {
  const file = `${dir}/dev.env`;
  try {
    const secret = parseEnvFile(await Deno.readTextFile(file)).WEBHOOK_SECRET;
    if (secret) return secret;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const secret = newWebhookSecret();
  await Deno.writeTextFile(
    file,
    `# deno task dev's webhook signing secret\nWEBHOOK_SECRET=${secret}\n`,
    {
      mode: 0o600,
    },
  );
  return secret;
}

const stackEnv = parseEnvFile(await Deno.readTextFile(`${dir}/stack.env`));
const env = devEnv(stackEnv, await devSecret(), Deno.env.toObject());

interface Child {
  task: string;
  process: Deno.ChildProcess;
  port: Promise<number>;
}

function spawn(task: string, taskEnv: Record<string, string> = env): Child {
  // `deno run` with the task's own flags, not `deno task`: no extra process between the signal
  // and the program, and its exit status is the program's.
  const process = new Deno.Command(deno, {
    args: taskArgs(task),
    env: programEnv(task, taskEnv),
    stdin: "null",
    stderr: "piped",
  }).spawn();
  // Pass the JSON log lines through, and find the port in the first "listening" line.
  const { promise: port, resolve, reject } = Promise.withResolvers<number>();
  (async () => {
    let found = false;
    let buffer = "";
    const decoder = new TextDecoder();
    for await (const chunk of process.stderr) {
      await Deno.stderr.write(chunk);
      if (found) continue;
      buffer += decoder.decode(chunk, { stream: true });
      for (let nl = buffer.indexOf("\n"); nl >= 0 && !found; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const entry = JSON.parse(line);
          if (entry.msg === "listening" && typeof entry.port === "number") {
            found = true;
            resolve(entry.port);
          }
        } catch { /* not a JSON line */ }
      }
    }
    reject(new Error(`${task} exited before it listened`));
  })();
  // Settled early when the program exits first; keep the rejection from going unhandled.
  port.catch(() => {});
  return { task, process, port };
}

const children = [spawn("ingest"), spawn("worker")];
let stopping = false;
// The programs that ended on their own, before dev asked them to stop.
const ended: { task: string; code: number }[] = [];
const watch = (c: Child) =>
  c.process.status.then((s) => {
    if (!stopping) ended.push({ task: c.task, code: s.code });
  });
children.forEach(watch);
const stop = () => {
  stopping = true;
  for (const c of children) {
    try {
      c.process.kill("SIGTERM");
    } catch { /* already gone */ }
  }
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

/** The ports of `list` once each listens; undefined when one exits first. */
const listening = (list: Child[]) =>
  Promise.race([
    Promise.all(list.map((c) => c.port)),
    ...list.map((c) => c.process.status.then(() => undefined)),
  ]).catch(() => undefined);

// Started means all listen; failed means one exited first. The console starts once it knows
// where the ingest and the worker listen.
let started = await listening(children);
if (started) {
  const [ingestPort, workerPort] = started;
  const console_ = spawn(
    "console",
    consoleEnv(
      env,
      { host: env.INGEST_HOST!, port: ingestPort! },
      { host: env.WORKER_HOSTNAME!, port: workerPort! },
    ),
  );
  children.push(console_);
  watch(console_);
  const consolePort = await listening([console_]);
  started = consolePort ? [...started, ...consolePort] : undefined;
}

if (!started) {
  await Promise.race(children.map((c) => c.process.status)); // its log can end before its exit
  const failed = ended.map((e) => `${e.task} exited with code ${e.code}`).join(", ");
  stop();
  await Promise.all(children.map((c) => c.process.status));
  console.error(
    `dev: ${failed || "stopped"} before the pipeline listened (see the log lines above)`,
  );
  if (startedStack) {
    console.error(`dev: stopping the stack "${name}" this run started`);
    await stack(["down"]);
  }
  Deno.exit(1);
}

// From here on, one program ending (a crash) ends the others too.
for (const c of children) c.process.status.then(stop);

const [ingestPort, workerPort, consolePort] = started as number[];
for (
  const line of devBanner({
    ingestHost: env.INGEST_HOST!,
    ingestPort: ingestPort!,
    workerHost: env.WORKER_HOSTNAME!,
    workerPort: workerPort!,
    secretFile: `${dir}/dev.env`,
    secretFromEnvironment: Boolean(Deno.env.get("WEBHOOK_SECRET")),
    unsigned: env.INGEST_ALLOW_UNSIGNED === "true",
    warehouseUrl: env.WAREHOUSE_URL!,
    stackName: name,
    consoleUrl: `http://${env.CONSOLE_HOST}:${consolePort}/`,
  })
) console.log(`dev: ${line}`);

const statuses = await Promise.all(children.map((c) => c.process.status));
Deno.exit(statuses.every((s) => s.success || s.signal === "SIGTERM") ? 0 : 1);
