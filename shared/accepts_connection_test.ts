import assert from "node:assert/strict";
import { silentListener } from "../testing/silent_listener.ts";
import { acceptsConnection } from "./accepts_connection.ts";

Deno.test("acceptsConnection() tells a listener from a closed port", async () => {
  await using silent = silentListener();
  assert.deepEqual(await acceptsConnection(silent.address), { accepted: true });
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  const probe = await acceptsConnection(`127.0.0.1:${port}`);
  assert.equal(probe.accepted, false);
  assert.match((probe as { reason: string }).reason, /refused/i);
});
