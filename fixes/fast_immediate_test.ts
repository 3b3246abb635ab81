import assert from "node:assert/strict";
import { installFastImmediate } from "./fast_immediate.ts";

type SetImmediate = (fn: (...a: unknown[]) => void, ...args: unknown[]) => { id: number };
type ClearImmediate = (h: { id: number }) => void;

Deno.test("installFastImmediate() runs callbacks in order after the current task, and clears", async () => {
  const uninstall = installFastImmediate();
  try {
    const g = globalThis as unknown as {
      setImmediate: SetImmediate;
      clearImmediate: ClearImmediate;
    };
    const seen: string[] = [];
    const done = Promise.withResolvers<void>();
    g.setImmediate((x) => seen.push(`a${x}`), 1);
    const cancelled = g.setImmediate(() => seen.push("cancelled"));
    g.setImmediate(() => {
      seen.push("b");
      done.resolve();
    });
    g.clearImmediate(cancelled);
    await Promise.resolve();
    seen.push("microtask first");
    await done.promise;
    assert.deepEqual(seen, ["microtask first", "a1", "b"]);
  } finally {
    uninstall();
  }
});
