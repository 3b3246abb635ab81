import assert from "node:assert/strict";
import postgres from "postgres";
import { connectNoDelay, type SocketTarget } from "./no_delay_socket.ts";

async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("a pool on connectNoDelay keeps failing fast, not hanging, while the server is down", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close(); // nothing listens there now: every connection is refused
  const options = {
    max: 2,
    connect_timeout: 5,
    onnotice: () => {},
    socket: (target: SocketTarget) => connectNoDelay(target),
  };
  const sql = postgres(`postgres://nobody@127.0.0.1:${port}/none`, options);
  try {
    // More attempts than pool slots: a factory that left failed connections behind would make
    // the third query wait forever.
    for (let i = 0; i < 5; i++) {
      const err = await withDeadline(sql`select 1`, 4_000).then(() => null, (e) => e);
      assert.ok(err, `query ${i} failed`);
      assert.equal((err as { code?: string }).code, "ECONNREFUSED", `query ${i}: ${err}`);
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
});
