/**
 * PostgreSQL for the local stack, the stand-in for Redshift: the machine's own server binaries
 * (15 or newer), a data directory under the stack's state folder, listening on loopback only.
 *
 * PostgreSQL refuses to run as root; when the stack runs as root (CI, containers) the server
 * runs as the `postgres` system user through `runuser`, and its folder is handed to that user.
 *
 * The running server is found through its data directory's `postmaster.pid`, not a pid
 * remembered at start: a `pg_ctl restart` outside the stack gives the server a new pid, and
 * `status` and `down` must still see it.
 */
import postgres from "postgres";
import { isAlive, isListening, run, StackError, tailFile, waitFor } from "./_process.ts";

/** The stack's PostgreSQL as recorded in its state file. */
export interface PgNode {
  port: number;
  dir: string;
  bin: string;
  /** The pid when the stack last saw the server; `postgresPid()` gives the live one. */
  pid?: number;
}

/** The warehouse database name, as in Redshift. */
export const WAREHOUSE_DB = "user_data";

/**
 * Finds the server binaries: `$PG_BIN`, else `pg_config --bindir`, else the newest
 * `/usr/lib/postgresql/N/bin` (Debian, Ubuntu) with N >= 15.
 * @throws {StackError} naming what was looked for when none is found.
 */
export async function findPgBin(): Promise<string> {
  const candidates: string[] = [];
  const explicit = Deno.env.get("PG_BIN");
  if (explicit) candidates.push(explicit);
  try {
    candidates.push((await run("pg_config", ["--bindir"])).trim());
  } catch { /* not on PATH: look in the usual places */ }
  try {
    const versions = [];
    for await (const e of Deno.readDir("/usr/lib/postgresql")) {
      const v = Number.parseInt(e.name, 10);
      if (v >= 15) versions.push(v);
    }
    versions.sort((a, b) => b - a).forEach((v) => candidates.push(`/usr/lib/postgresql/${v}/bin`));
  } catch { /* no Debian layout */ }
  for (const dir of candidates) {
    try {
      await Deno.stat(`${dir}/initdb`);
      await Deno.stat(`${dir}/pg_ctl`);
      return dir;
    } catch { /* try the next one */ }
  }
  throw new StackError(
    "Cannot start PostgreSQL: no server binaries (initdb, pg_ctl) of version 15+ found. " +
      "Install them (Debian: apt-get install postgresql-15) or set PG_BIN to their folder.",
  );
}

/**
 * The pid of the server that runs on this node's data directory and port, or undefined when
 * none does. It reads the first line of `data/postmaster.pid`, which the server writes at start
 * and removes at shutdown, and checks that the pid is alive and that the file's port (its fourth
 * line) is the node's: a file left by a crash names a pid that is gone or, rarely, reused.
 * @throws {Error} when the file exists but cannot be read (e.g. permission denied).
 */
export async function postgresPid(pg: PgNode): Promise<number | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${pg.dir}/data/postmaster.pid`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  const lines = text.split("\n");
  const pid = Number.parseInt(lines[0] ?? "", 10);
  if (!(pid > 0) || Number.parseInt(lines[3] ?? "", 10) !== pg.port) return undefined;
  return (await isAlive(pid)) ? pid : undefined;
}

/** Initialises the data directory if needed and starts the server; returns its pid. */
export async function startPostgres(pg: PgNode): Promise<number> {
  const running = await postgresPid(pg);
  if (running) return running;
  if (await isListening(pg.port)) {
    throw new StackError(
      `Cannot start PostgreSQL: port ${pg.port} is taken by another process. ` +
        `Stop it, or run "deno task stack down --purge" to start over on new ports.`,
    );
  }
  const asUser = await pgRunner(pg.dir);
  const data = `${pg.dir}/data`;
  try {
    await Deno.stat(`${data}/PG_VERSION`);
  } catch {
    await asUser(`${pg.bin}/initdb`, [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--locale=C.UTF-8",
    ], "initdb");
  }
  const options = [
    `-p ${pg.port}`,
    "-c listen_addresses=127.0.0.1",
    `-k ${pg.dir}`,
    "-c max_connections=200",
    "-c shared_buffers=256MB",
    "-c max_wal_size=2GB",
  ].join(" ");
  await asUser(`${pg.bin}/pg_ctl`, [
    "-D",
    data,
    "-l",
    `${pg.dir}/server.log`,
    "-o",
    options,
    "-w",
    "-t",
    "60",
    "start",
  ], "pg_ctl start").catch(async (err) => {
    throw new StackError(
      `${err.message}\nLast lines of ${pg.dir}/server.log:\n${await tailFile(
        `${pg.dir}/server.log`,
      )}`,
    );
  });
  const pid = await postgresPid(pg);
  if (!pid) {
    throw new StackError(
      `Cannot start PostgreSQL: pg_ctl returned, but ${data}/postmaster.pid names no live ` +
        `server on port ${pg.port}. Last lines of ${pg.dir}/server.log:\n${await tailFile(
          `${pg.dir}/server.log`,
        )}`,
    );
  }
  await ensureDatabase(pg.port);
  return pid;
}

/** Stops the server (fast shutdown: open transactions roll back, nothing committed is lost). */
export async function stopPostgres(pg: PgNode, mode: "fast" | "immediate" = "fast"): Promise<void> {
  const pid = await postgresPid(pg);
  if (!pid) return;
  const asUser = await pgRunner(pg.dir);
  await asUser(
    `${pg.bin}/pg_ctl`,
    ["-D", `${pg.dir}/data`, "-m", mode, "-w", "stop"],
    "pg_ctl stop",
  );
  await waitFor(async () => !(await isAlive(pid)), 10_000);
}

/** The connection URL for the warehouse database (trust auth on loopback: no secret). */
export function warehouseUrl(port: number): string {
  return `postgres://postgres@127.0.0.1:${port}/${WAREHOUSE_DB}`;
}

async function ensureDatabase(port: number): Promise<void> {
  const sql = postgres({
    host: "127.0.0.1",
    port,
    user: "postgres",
    database: "postgres",
    max: 1,
    onnotice: () => {},
  });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${WAREHOUSE_DB}`;
    if (rows.length === 0) await sql.unsafe(`create database ${WAREHOUSE_DB}`);
  } finally {
    await sql.end();
  }
}

/** Returns a runner that executes a PostgreSQL binary as a user allowed to run the server. */
async function pgRunner(
  dir: string,
): Promise<(cmd: string, args: string[], what: string) => Promise<string>> {
  await Deno.mkdir(dir, { recursive: true });
  if (Deno.uid() !== 0) return (cmd, args, what) => run(cmd, args, { what });
  let ids: string;
  try {
    ids = await run("id", ["-u", "postgres"]) + await run("id", ["-g", "postgres"]);
  } catch (cause) {
    throw new StackError(
      "Cannot start PostgreSQL as root: it refuses to run as root and there is no 'postgres' " +
        "user to run it as. Create that user or run the stack as an ordinary user.",
      { cause },
    );
  }
  const [uid, gid] = ids.trim().split(/\s+/).map(Number);
  await Deno.chown(dir, uid!, gid!);
  return (cmd, args, what) => run("runuser", ["-u", "postgres", "--", cmd, ...args], { what });
}
