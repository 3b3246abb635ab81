/**
 * Workaround: `@platformatic/kafka` loads `debug`, which lists every environment variable at
 * import (`Object.keys(process.env)`, for its `DEBUG_*` options). Under Deno that needs access
 * to the whole environment and fails the start of a program granted an exact `--allow-env`
 * list. This keeps reads exact (reading a variable that is not granted still throws) and lets
 * a listing show only what may be listed (nothing, under an exact list).
 *
 * Imported first by every module of `shared/kafka/` that imports the client. Can go when `debug`
 * stops listing the environment at import, or Deno lets a partial grant list it.
 */
import process from "node:process";

const real = process.env;
const guarded = new Proxy({} as Record<string, string | undefined>, {
  get: (_t, key) => (typeof key === "string" ? real[key] : undefined),
  set: (_t, key, value) => {
    if (typeof key === "string") real[key] = String(value);
    return true;
  },
  has: (_t, key) => typeof key === "string" && real[key] !== undefined,
  deleteProperty: (_t, key) => {
    if (typeof key === "string") delete real[key];
    return true;
  },
  ownKeys: () => {
    try {
      return Reflect.ownKeys(real);
    } catch {
      return []; // an exact --allow-env list: nothing may be listed
    }
  },
  getOwnPropertyDescriptor: (_t, key) => {
    const value = typeof key === "string" ? real[key] : undefined;
    return value === undefined
      ? undefined
      : { value, enumerable: true, configurable: true, writable: true };
  },
});
Object.defineProperty(process, "env", { value: guarded, configurable: true, writable: true });
