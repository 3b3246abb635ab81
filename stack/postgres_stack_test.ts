/**
 * The stack follows its PostgreSQL by the data directory's `postmaster.pid`: a server restarted
 * outside the stack (`pg_ctl restart`, as an operator would) is still reported and still stopped.
 * Runs on a private stack, so that the shared `local` one is never restarted.
 */
import assert from "node:assert/strict";
import { privateStack } from "./harness.ts";
import { postgresPid } from "./postgres.ts";
import { downStack, stackStatus } from "./stack.ts";
import { isAlive, isListening, run } from "./_process.ts";

/** The pid on the first line of the data directory's postmaster.pid; undefined without one. */
async function postmasterPid(dir: string): Promise<number | undefined> {
  const text = await Deno.readTextFile(`${dir}/data/postmaster.pid`).catch((err) => {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  });
  return text === undefined ? undefined : Number.parseInt(text.split("\n")[0]!, 10);
}

/** `pg_ctl` on the node's data directory, as the `postgres` user when root (as the stack does). */
function pgCtl(pg: { dir: string; bin: string }, args: string[]): Promise<string> {
  const cmd = [`${pg.bin}/pg_ctl`, "-D", `${pg.dir}/data`, ...args];
  return Deno.uid() === 0
    ? run("runuser", ["-u", "postgres", "--", ...cmd], { what: `pg_ctl ${args.at(-1)}` })
    : run(cmd[0]!, cmd.slice(1), { what: `pg_ctl ${args.at(-1)}` });
}

Deno.test("stack status and down follow PostgreSQL through a pg_ctl restart outside the stack", async () => {
  const stack = await privateStack({ prefix: "pgrestart" });
  const pg = stack.state.postgres;
  try {
    const before = pg.pid;
    assert.ok(before && (await isAlive(before)), "the private stack's PostgreSQL runs");
    assert.equal(await postmasterPid(pg.dir), before, "the stack recorded the server's pid");

    // `-l` keeps the server's output out of pg_ctl's pipes; restart reuses postmaster.opts.
    await pgCtl(pg, ["-l", `${pg.dir}/server.log`, "-w", "-t", "60", "-m", "fast", "restart"]);
    const after = await postmasterPid(pg.dir);
    assert.ok(after && (await isAlive(after)), "PostgreSQL runs again after pg_ctl restart");
    assert.notEqual(after, before, "the restarted server has a new pid");
    assert.equal(await isAlive(before), false, "the old server is gone");

    const status = await stackStatus(stack.state.name);
    assert.ok(
      status.includes(`  postgres: running pid=${after} port=${pg.port}`),
      `status must report the restarted server:\n${status.join("\n")}`,
    );

    await downStack(stack.state.name);
    assert.equal(await isAlive(after), false, `down left PostgreSQL (pid ${after}) running`);
    assert.equal(await isListening(pg.port), false, `port ${pg.port} still listens after down`);
    assert.equal(await postmasterPid(pg.dir), undefined, "postmaster.pid is gone: a clean stop");
  } finally {
    // Whatever happened above, leave no server behind: stop it by its data directory.
    if (await isAlive(await postmasterPid(pg.dir).catch(() => undefined))) {
      await pgCtl(pg, ["-m", "immediate", "-w", "stop"]).catch(() => {});
    }
    await stack.stop();
  }
});

Deno.test("postgresPid() trusts postmaster.pid only for a live pid on the node's port", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postgres_pid_" });
  try {
    const pg = { port: 5999, dir, bin: "/nonexistent" };
    assert.equal(await postgresPid(pg), undefined, "no data directory");
    await Deno.mkdir(`${dir}/data`);
    const write = (pid: number, port: number) =>
      Deno.writeTextFile(
        `${dir}/data/postmaster.pid`,
        `${pid}\n${dir}/data\n1700000000\n${port}\n${dir}\n127.0.0.1\n0\nready   \n`,
      );
    await write(Deno.pid, 5999);
    assert.equal(await postgresPid(pg), Deno.pid, "a live pid on the node's port");
    await write(Deno.pid, 6000);
    assert.equal(await postgresPid(pg), undefined, "a file for another port");
    const exited = new Deno.Command("true", { stdout: "null", stderr: "null" }).spawn();
    await exited.status; // reaped: its pid names no process now
    await write(exited.pid, 5999);
    assert.equal(await postgresPid(pg), undefined, "a file left by a server that crashed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
