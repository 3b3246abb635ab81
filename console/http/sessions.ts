/**
 * Browser sessions: a page that was given the token once (`POST /api/session` with it as a
 * bearer token) gets an HttpOnly, SameSite=Strict cookie, so that its event stream (which
 * cannot send headers) and its later requests are authorised without the token in a URL.
 * Sessions live in memory, expire, and are bounded in number.
 */

/** The session store. */
export interface Sessions {
  /** A new session id. */
  create(): string;
  /** True for a live session id. */
  valid(id: string | undefined): boolean;
}

/** Creates a store; `now` is injected for tests. */
export function createSessions(
  opts: { ttlMs?: number; max?: number; now?: () => number } = {},
): Sessions {
  const ttl = opts.ttlMs ?? 12 * 3600_000;
  const max = opts.max ?? 1_000;
  const now = opts.now ?? Date.now;
  const sessions = new Map<string, number>(); // id -> expiry, oldest first
  return {
    create() {
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      const id = btoa(String.fromCharCode(...bytes)).replace(
        /[+/=]/g,
        (c) => c === "+" ? "-" : c === "/" ? "_" : "",
      );
      sessions.set(id, now() + ttl);
      while (sessions.size > max) sessions.delete(sessions.keys().next().value!);
      return id;
    },
    valid(id) {
      if (id === undefined) return false;
      const expiry = sessions.get(id);
      if (expiry === undefined) return false;
      if (expiry < now()) {
        sessions.delete(id);
        return false;
      }
      return true;
    },
  };
}
