/**
 * A stand-in for randomuser.me on 127.0.0.1 that misbehaves on purpose, in a fixed cycle per
 * request: 500, 429, an answer that never comes (the ingest's timeout), then either valid users
 * (plus one invalid result) or, every other good turn, a body that is not JSON at all.
 *
 * It remembers the valid users of each answer it served, so the ledger can file them when the
 * pull that fetched them is acknowledged.
 */
import { randomUserResult } from "../testing/users.ts";

/** The stand-in server. */
export interface RandomUserStandin {
  url: string;
  /** Valid users (`login.uuid`) served since the last call, then forgets them. */
  takeServed(): string[];
  /** Answers given, by kind. */
  served: Record<string, number>;
  close(): Promise<void>;
}

const CYCLE = ["500", "429", "hang", "good"] as const;

/** Starts the stand-in on a free loopback port. */
export function startRandomUserStandin(opts: { results: number }): RandomUserStandin {
  let n = 0;
  let goodTurns = 0;
  let last: string[] = [];
  const served: Record<string, number> = {};
  const hanging = new Set<() => void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    let kind: string = CYCLE[n++ % CYCLE.length]!;
    if (kind === "good" && goodTurns++ % 2 === 1) kind = "garbage";
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
      default: {
        const count = Math.max(1, opts.results);
        const ids = Array.from({ length: count }, () => crypto.randomUUID());
        last.push(...ids);
        const results: unknown[] = ids.map((id) =>
          randomUserResult(id, {
            name: { title: "Ms", first: "Zoë", last: "Øvergaard v0" },
          })
        );
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
