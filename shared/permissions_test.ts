import assert from "node:assert/strict";
import { assertNarrowPermissions, PermissionError } from "./permissions.ts";

const status = (state: Deno.PermissionState) => ({ state }) as Deno.PermissionStatus;

Deno.test("assertNarrowPermissions() passes when run, write and ffi are not granted", async () => {
  await assertNarrowPermissions(undefined, () => Promise.resolve(status("prompt")));
});

Deno.test("assertNarrowPermissions() names every excess permission, including partial grants", async () => {
  const query = (d: Deno.PermissionDescriptor) =>
    Promise.resolve(
      status(
        d.name === "run" || (d.name === "write" && "path" in d && d.path === "/tmp")
          ? "granted"
          : "prompt",
      ),
    );
  await assert.rejects(() => assertNarrowPermissions(undefined, query), (err: unknown) => {
    assert.ok(err instanceof PermissionError);
    assert.match(err.message, /must not be granted --allow-run, --allow-write \(or -A\)/);
    return true;
  });
});

Deno.test("assertNarrowPermissions() sees the real grants of this test process", async () => {
  // `deno task test` runs with --allow-run and --allow-write, so the real check must refuse.
  await assert.rejects(() => assertNarrowPermissions(), PermissionError);
});
