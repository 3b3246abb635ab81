/**
 * Who may do what: a bearer token (`CONSOLE_TOKEN`) or a session cookie made from it, and a
 * same-origin check for writes, so that another site open in the same browser cannot make the
 * console act (CSRF) even on 127.0.0.1.
 */

/** The session cookie's name. */
export const SESSION_COOKIE = "console_session";

/** Compares two strings in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** The bearer token of `request`, if any. */
export function bearerToken(request: Request): string | undefined {
  const h = request.headers.get("authorization");
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m ? m[1] : undefined;
}

/** The value of cookie `name`, if sent. */
export function cookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * True when `request` comes from a page of this origin: an `Origin` header equal to the
 * request's own origin, and no `Sec-Fetch-Site` other than `same-origin`. A request without
 * `Origin` (curl, a script) is not same-origin: writes then need the bearer token itself.
 */
export function isSameOrigin(request: Request): boolean {
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return false;
  if (origin === null) return false;
  return origin === new URL(request.url).origin;
}
