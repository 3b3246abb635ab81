/**
 * A stand-in for randomuser.me on 127.0.0.1 that misbehaves on purpose, in a fixed cycle per
 * request: 500, 429, an answer that never comes (the ingest's timeout), then either valid users
 * (plus one invalid result) or, every other good turn, a body that is not JSON at all.
 *
 * Its users come from every nationality randomuser.me serves, in turn, each with its `nat`,
 * country and mobile number (`cell`); `?nat=gb,us` in the request (which `RANDOMUSER_URL` may
 * carry) narrows them as the real API does (see `requestedNationalities`).
 *
 * It remembers the valid users of each answer it served, so the ledger can file them when the
 * pull that fetched them is acknowledged.
 */
import { randomUserResult } from "../testing/users.ts";
import { RANDOMUSER_NATIONALITIES, requestedNationalities } from "./randomuser_nationalities.ts";

/** The stand-in server. */
export interface RandomUserStandin {
  url: string;
  /** Valid users (`login.uuid`) served since the last call, then forgets them. */
  takeServed(): string[];
  /** Answers given, by kind. */
  served: Record<string, number>;
  close(): Promise<void>;
}

/** One kind of answer: a status, an answer that never comes, users, or a body that is not JSON. */
export type StandinAnswer = "500" | "429" | "hang" | "good" | "garbage";

/** What the fault suite gets: each failure a pull retries, then users or garbage in turn. */
export const FAULT_CYCLE: readonly StandinAnswer[] = [
  "500",
  "429",
  "hang",
  "good",
  "500",
  "429",
  "hang",
  "garbage",
];

/** Options of the stand-in. */
export interface RandomUserStandinOptions {
  /** Valid users per good answer (at least 1); one invalid result follows them. */
  results: number;
  /** The answers in turn, repeated (default `FAULT_CYCLE`). */
  cycle?: readonly StandinAnswer[];
}

/** Starts the stand-in on a free loopback port. */
export function startRandomUserStandin(opts: RandomUserStandinOptions): RandomUserStandin {
  const cycle = opts.cycle ?? FAULT_CYCLE;
  if (cycle.length === 0) throw new RangeError("Cannot start the stand-in: an empty cycle");
  let n = 0;
  let users = 0;
  let last: string[] = [];
  const served: Record<string, number> = {};
  const hanging = new Set<() => void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const kind = cycle[n++ % cycle.length]!;
    served[kind] = (served[kind] ?? 0) + 1;
    switch (kind) {
      case "500":
        return new Response("boom", { status: 500 });
      case "429":
        return new Response("slow down", { status: 429, headers: { "retry-after": "1" } });
      case "garbage":
        return new Response("<html>\u0000\uFFFD not json", {
          status: 200,
          headers: { "content-type": "application/json" },
        });
      case "hang":
        // Answers only when the client gave up (or the stand-in closes).
        return new Promise<Response>((resolve) => {
          const done = () => {
            hanging.delete(done);
            resolve(new Response("late", { status: 500 }));
          };
          hanging.add(done);
          request.signal.addEventListener("abort", done, { once: true });
        });
      case "good": {
        const count = Math.max(1, opts.results);
        const ids = Array.from({ length: count }, () => crypto.randomUUID());
        last.push(...ids);
        const nats = requestedNationalities(new URL(request.url));
        const results: unknown[] = ids.map((id) => {
          const nat = nats[users++ % nats.length]!;
          const { country, cell } = RANDOMUSER_NATIONALITIES[nat]!;
          const result = randomUserResult(id, {
            name: { title: "Ms", first: "Zoë", last: "Øvergaard v0" },
            cell,
            nat,
          });
          return { ...result, location: { ...result.location as object, country } };
        });
        results.push({ gender: "x", name: null }); // invalid: rejected, never a row
        return Response.json({ results, info: { seed: "fault", results: count + 1, page: 1 } });
      }
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/api/`,
    takeServed: () => {
      const out = last;
      last = [];
      return out;
    },
    served,
    async close() {
      for (const h of [...hanging]) h();
      await server.shutdown();
    },
  };
}
