/**
 * `deno task dev`: runs the ingest and the worker on the local stack, each with the permission
 * flags of its own task, and stops both on Ctrl-C or SIGTERM.
 *
 * Connection settings come from `.stack/local/stack.env` (written by `deno task stack up`);
 * anything already set in the environment wins, so `WEBHOOK_SECRET=… deno task dev` works.
 */
import { stackDir } from "./stack.ts";

const settings = await Deno.readTextFile(`${stackDir("local")}/stack.env`).catch(() => {
  throw new Error('No local stack settings: run "deno task stack up" first');
});
const env: Record<string, string> = {};
for (const line of settings.split("\n")) {
  const eq = line.indexOf("=");
  if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
}
for (const [k, v] of Object.entries(Deno.env.toObject())) env[k] = v;
// Local development accepts unsigned webhook calls unless a secret is configured.
env.INGEST_ALLOW_UNSIGNED ??= env.WEBHOOK_SECRET ? "false" : "true";

const children = ["ingest", "worker"].map((task) =>
  new Deno.Command(Deno.execPath(), { args: ["task", task], env, stdin: "null" }).spawn()
);
const stop = () => children.forEach((c) => c.kill("SIGTERM"));
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
const statuses = await Promise.all(children.map((c) => c.status));
Deno.exit(statuses.every((s) => s.success || s.signal === "SIGTERM") ? 0 : 1);
