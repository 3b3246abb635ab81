/**
 * A start-up guard: a service refuses to run with permissions it must never have.
 *
 * The ingest and the worker need network and a few environment variables, nothing else. If one
 * was started with `-A`, `--allow-run`, `--allow-write` or `--allow-ffi` (a copied command
 * line, a compromised wrapper), a flaw in a dependency would reach the whole machine; refusing
 * to start makes the mistake visible at once instead of leaving it in production.
 *
 * @example
 * ```ts
 * await assertNarrowPermissions(); // first line of main.ts
 * ```
 */

/** The permissions a service must not hold. */
export const FORBIDDEN_PERMISSIONS: readonly Deno.PermissionDescriptor[] = [
  { name: "run" },
  { name: "write" },
  { name: "ffi" },
];

/** Raised when the process holds a permission it must not have. */
export class PermissionError extends Error {
  override name = "PermissionError";
}

/**
 * Checks that none of `forbidden` is granted (neither fully nor for some path or command).
 * @throws {PermissionError} naming every excess permission and the flag to drop.
 */
export async function assertNarrowPermissions(
  forbidden: readonly Deno.PermissionDescriptor[] = FORBIDDEN_PERMISSIONS,
  query: (d: Deno.PermissionDescriptor) => Promise<Deno.PermissionStatus> = (d) =>
    Deno.permissions.query(d),
): Promise<void> {
  const granted: string[] = [];
  for (const descriptor of forbidden) {
    const status = await query(descriptor);
    // "prompt" with partial grants still means some access: a blanket query is "granted" only
    // for the unrestricted flag, so also probe a representative target.
    const probe = await query(probeFor(descriptor));
    if (status.state === "granted" || probe.state === "granted") {
      granted.push(`--allow-${descriptor.name}`);
    }
  }
  if (granted.length > 0) {
    throw new PermissionError(
      `Refusing to start: this service must not be granted ${granted.join(", ")} ` +
        `(or -A). Run it with the flags of its deno.json task.`,
    );
  }
}

function probeFor(d: Deno.PermissionDescriptor): Deno.PermissionDescriptor {
  switch (d.name) {
    case "run":
      return { name: "run", command: "sh" };
    case "write":
      return { name: "write", path: "/tmp" };
    case "ffi":
      return { name: "ffi", path: "/tmp" };
    default:
      return d;
  }
}
