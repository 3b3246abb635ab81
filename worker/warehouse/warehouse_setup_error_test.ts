import assert from "node:assert/strict";
import { WriteError } from "./write_error.ts";
import { WarehouseSetupError, warehouseSetupError } from "./warehouse_setup_error.ts";

const URL = "postgres://u:do-not-log-me@db.example.com:5439/user_data";
const accepted = () => Promise.resolve({ accepted: true as const });
const unreachable = () => Promise.resolve({ accepted: false as const, reason: "no connection" });
// What postgres.js throws through the no-delay socket, wrapped by the sink.
const timeout = new WriteError(
  "write CONNECT_TIMEOUT undefined:undefined",
  "retry",
  "CONNECT_TIMEOUT",
);

Deno.test("warehouseSetupError() names WAREHOUSE_URL for a warehouse that accepts and never answers", async () => {
  const err = await warehouseSetupError(timeout, URL, accepted);
  assert.ok(err instanceof WarehouseSetupError);
  assert.equal(
    err.message,
    "The warehouse at db.example.com:5439 accepted the connection but did not answer within " +
      "10 s: check WAREHOUSE_URL (is it PostgreSQL or Redshift?)",
  );
  assert.equal(err.cause, timeout);
});

Deno.test("warehouseSetupError() names WAREHOUSE_URL for a warehouse no connection reaches", async () => {
  const err = await warehouseSetupError(timeout, "postgres://u@10.0.0.7/user_data", unreachable);
  assert.equal(
    (err as Error).message,
    "The warehouse at 10.0.0.7:5432 did not accept a connection within 10 s: check " +
      "WAREHOUSE_URL (a wrong host, or a firewall that drops the packets?)",
  );
  const refused = new WriteError("connect ECONNREFUSED 10.0.0.7:5432", "retry", "ECONNREFUSED");
  assert.equal(
    ((await warehouseSetupError(refused, URL, accepted)) as Error).message,
    "Cannot connect to the warehouse at db.example.com:5439: connect ECONNREFUSED " +
      "10.0.0.7:5432: check WAREHOUSE_URL",
  );
});

Deno.test("warehouseSetupError() passes on what is not a connection failure, and never the password", async () => {
  const denied = new WriteError("permission denied for schema public", "isolate", "42501");
  assert.equal(await warehouseSetupError(denied, URL, accepted), denied);
  const plain = new Error("no code");
  assert.equal(await warehouseSetupError(plain, URL, accepted), plain);
  const named = await warehouseSetupError(timeout, URL, accepted);
  assert.ok(!(named as Error).message.includes("do-not-log-me"));
});
