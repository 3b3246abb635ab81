import assert from "node:assert/strict";
import { listenFailure } from "./listen_failure.ts";

const variables = { host: "WORKER_HOSTNAME", port: "WORKER_PORT" };

Deno.test("listenFailure() names the port variable when the port is taken", () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  let thrown: unknown;
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch (err) {
    thrown = err;
  }
  assert.equal(
    listenFailure(thrown, variables, { hostname: "127.0.0.1", port }),
    `Cannot listen on 127.0.0.1:${port}: the port is taken by another process; set WORKER_PORT ` +
      "to a free port (0 picks one)",
  );
});

Deno.test("listenFailure() names the host variable for an address this machine lacks", () => {
  const err = new Deno.errors.AddrNotAvailable("Cannot assign requested address (os error 99)");
  assert.match(
    listenFailure(err, variables, { hostname: "::2", port: 9090 })!,
    /^Cannot listen on \[::2\]:9090: this machine has no such address; set WORKER_HOSTNAME/,
  );
});

Deno.test("listenFailure() leaves other errors to the caller", () => {
  assert.equal(listenFailure(new TypeError("x"), variables, { hostname: "a", port: 1 }), undefined);
});
