/**
 * Where the stack keeps things, with no other imports, so that a launcher (`deno task dev`)
 * can find the stack's folder without loading the Kafka client (which needs more permissions).
 */

/** The repository root (the folder above `stack/`). */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The folder that holds one stack's state. */
export function stackDir(name = "local"): string {
  return `${Deno.env.get("STACK_DIR") ?? `${ROOT}/.stack`}/${name}`;
}
