/**
 * The test kit's way to run code with some environment variables set in this process, put back
 * as they were afterwards (set or unset).
 *
 * @example
 * ```ts
 * import { withEnv } from "./with_env.ts";
 * await withEnv({ STACK_CACHE_DIR: "/tmp/cache" }, () => Promise.resolve());
 * ```
 */

/** Runs `fn` with `vars` set in this process's environment, then restores them. */
export async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  for (const [k, v] of Object.entries(vars)) Deno.env.set(k, v);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
  }
}
