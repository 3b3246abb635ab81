// deno-lint-ignore-file no-console -- a command-line tool: its output is for the terminal
/**
 * What the batched path's parts cost per event, in one process: `JSON.parse` of a batch of
 * 100 synthetic users, the shared zod schema on each (compiled, zod's default, or with
 * `--jitless`, zod's interpreter), and the envelope (`encodeEvent(newEvent())` against
 * `encodeNewEvent`, which writes the envelope around `JSON.stringify(user)`).
 *
 * `deno run bench/ingest_schema_cost.ts [--jitless]`; prints one line per part, µs per event.
 */
import { z } from "zod";
import { encodeEvent, encodeNewEvent, newEvent, type User, userSchema } from "../shared/event.ts";
import { syntheticUser } from "../load/synthetic_user.ts";
import { createRng } from "../testing/rng.ts";

const jitless = Deno.args.includes("--jitless");
if (jitless) z.config({ jitless: true });
const random = createRng(3).next;
const text = JSON.stringify(Array.from({ length: 100 }, () => syntheticUser(random)));
const users: User[] = (JSON.parse(text) as unknown[]).map((u) => userSchema.parse(u));
const at = new Date();
const iso = at.toISOString();

/** µs per event of `f` run on a batch of 100, `rounds` times after a warm-up. */
function perEvent(f: () => void, rounds = 2000): number {
  for (let i = 0; i < 300; i++) f();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) f();
  return Math.round(((performance.now() - t0) * 1000) / (rounds * 100) * 100) / 100;
}

const parts: Record<string, () => void> = {
  "JSON.parse": () => void JSON.parse(text),
  [`JSON.parse + zod (${jitless ? "jitless" : "compiled"})`]: () => {
    for (const item of JSON.parse(text) as unknown[]) {
      if (!userSchema.safeParse(item).success) throw new Error("invalid");
    }
  },
  "envelope: encodeEvent(newEvent())": () => {
    for (const u of users) encodeEvent(newEvent(u, "webhook", at));
  },
  "envelope: encodeNewEvent()": () => {
    for (const u of users) encodeNewEvent(u, "webhook", iso, crypto.randomUUID());
  },
};
for (const [name, f] of Object.entries(parts)) console.log(`${name}: ${perEvent(f)} µs/event`);
