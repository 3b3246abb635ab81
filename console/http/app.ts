/**
 * The console's HTTP application: the page and its files, the live event stream, and the API,
 * as a plain `(Request) => Promise<Response>` handler that tests call without sockets.
 *
 * | route | what |
 * | --- | --- |
 * | `GET /`, `GET /static/…` | the page, its ES modules, styles and the vendored uPlot |
 * | `GET /api/live` | server-sent events: `hello` (history + latest), then `snapshot` each second |
 * | `GET /api/snapshot` | the latest snapshot and the history, as JSON |
 * | `GET /api/session` | `{tokenRequired, signedIn}`: whether the page must ask for the token |
 * | `POST /api/session` | with `Authorization: Bearer CONSOLE_TOKEN`: sets the session cookie |
 * | `GET /healthz` | the process answers |
 *
 * Every `/api/` route but `/api/session` needs the token (bearer or session cookie) when
 * `CONSOLE_TOKEN` is set; writes need it always, from the same origin. A browser request from
 * another site (`Sec-Fetch-Site`) is refused on every API route. On a loopback address the
 * `Host` header must name a loopback address too (no DNS rebinding).
 */
import type { Logger } from "../../shared/logger.ts";
import { isLoopback } from "../config.ts";
import type { Poller } from "../live/poller.ts";
import { bearerToken, cookie, isSameOrigin, sameSecret, SESSION_COOKIE } from "./guard.ts";
import { withSecurityHeaders } from "./security_headers.ts";
import type { Sessions } from "./sessions.ts";
import { sseResponse } from "./sse.ts";
import type { StaticFile } from "./static_files.ts";

/** What the app is given. */
export interface ConsoleAppDeps {
  poller: Poller;
  staticFiles: ReadonlyMap<string, StaticFile>;
  sessions: Sessions;
  /** `CONSOLE_TOKEN`; unset: reads are open (loopback only) and writes are refused. */
  token?: string;
  /** The address the console listens on (`CONSOLE_HOST`). */
  host: string;
  logger: Logger;
  /** Most event streams open at once (default 100). */
  maxStreams?: number;
  /** Aborted when the console stops: open event streams end. */
  shutdown?: AbortSignal;
  /** More routes (dead letters, find, pull runs), by path and method. */
  routes?: Record<string, Record<string, ApiRoute>>;
}

/** What a route is given. */
export interface RouteContext {
  request: Request;
  url: URL;
  deps: ConsoleAppDeps;
}

/** A route: it answers, or throws an `ApiError`. */
export type ApiRoute = (ctx: RouteContext) => Promise<Response> | Response;

/** An error answer: status and a message for the page. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Marks a route as one that writes: token, same origin, JSON. */
export function writeRoute(route: ApiRoute): ApiRoute {
  const guarded: ApiRoute = (ctx) => {
    const { request, deps } = ctx;
    if (deps.token === undefined) {
      throw new ApiError(403, "Actions that write need CONSOLE_TOKEN to be set");
    }
    const bearer = bearerToken(request);
    const byBearer = bearer !== undefined && sameSecret(bearer, deps.token);
    const byCookie = deps.sessions.valid(cookie(request, SESSION_COOKIE));
    if (!byBearer && !byCookie) throw new ApiError(401, "A valid token is required");
    // A cookie is sent by the browser whoever made the page: it counts only from this origin.
    // A bearer token is never added by a browser on its own, but a page may not send it either.
    if (byCookie && !byBearer && !isSameOrigin(request)) {
      throw new ApiError(403, "Writes are accepted only from the console's own page");
    }
    if (request.headers.get("origin") !== null && !isSameOrigin(request)) {
      throw new ApiError(403, "Writes are accepted only from the console's own page");
    }
    const type = request.headers.get("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new ApiError(415, "Expected Content-Type: application/json");
    }
    return route(ctx);
  };
  WRITES.add(guarded);
  return guarded;
}

const WRITES = new WeakSet<ApiRoute>();

/** Reads a small JSON body. @throws {ApiError} 413 or 400. */
export async function jsonBody(request: Request, maxBytes = 16_384): Promise<unknown> {
  const text = await request.text();
  if (text.length > maxBytes) throw new ApiError(413, "Body too large");
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "Body is not JSON");
  }
}

function json(data: unknown, status = 200): Response {
  return Response.json(data, { status });
}

const getSnapshot: ApiRoute = ({ deps }) =>
  json({ latest: deps.poller.latest() ?? null, history: deps.poller.history() });

/** `POST /api/session`: the bearer token buys an HttpOnly, SameSite=Strict session cookie. */
const postSession: ApiRoute = ({ request, deps }) => {
  if (deps.token === undefined) return json({ session: false, tokenRequired: false });
  if (!isSameOrigin(request)) {
    throw new ApiError(403, "Sessions are made only by the console's page");
  }
  const bearer = bearerToken(request);
  if (bearer === undefined || !sameSecret(bearer, deps.token)) {
    throw new ApiError(401, "Wrong token");
  }
  const id = deps.sessions.create();
  return new Response(JSON.stringify({ session: true }), {
    headers: {
      "content-type": "application/json",
      "set-cookie": `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/`,
    },
  });
};

/** `GET /api/session`: whether a token is required and whether this page has a session. */
const getSession: ApiRoute = ({ request, deps }) =>
  json({
    tokenRequired: deps.token !== undefined,
    signedIn: deps.token === undefined || deps.sessions.valid(cookie(request, SESSION_COOKIE)),
  });

/** Creates the handler. */
export function createConsoleApp(deps: ConsoleAppDeps): (request: Request) => Promise<Response> {
  let streams = 0;
  const maxStreams = deps.maxStreams ?? 100;
  const getLive: ApiRoute = ({ request }) => {
    if (streams >= maxStreams) throw new ApiError(503, "Too many open live views");
    streams++;
    const signals = deps.shutdown ? [request.signal, deps.shutdown] : [request.signal];
    const response = sseResponse(deps.poller, AbortSignal.any(signals));
    // Count the stream out when the client goes away.
    request.signal.addEventListener("abort", () => streams--, { once: true });
    return response;
  };
  const routes: Record<string, Record<string, ApiRoute>> = {
    "/api/live": { GET: getLive },
    "/api/snapshot": { GET: getSnapshot },
    "/api/session": { GET: getSession, POST: postSession },
    ...deps.routes,
  };
  const log = deps.logger.child({ component: "console-http" });
  const loopback = isLoopback(deps.host);

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (loopback && !isLoopback(url.hostname)) {
      throw new ApiError(421, "This console answers only to a loopback host name");
    }
    if (url.pathname === "/healthz") return json({ ok: true });
    // No icon: an empty answer rather than a 404 in every browser's console.
    if (url.pathname === "/favicon.ico") return new Response(null, { status: 204 });
    if (request.method === "GET" || request.method === "HEAD") {
      const file = deps.staticFiles.get(url.pathname);
      if (file) {
        return new Response(request.method === "HEAD" ? null : file.body, {
          headers: {
            "content-type": file.type,
            "cache-control": url.pathname === "/" ? "no-store" : "no-cache",
          },
        });
      }
    }
    const methods = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    if (!methods) throw new ApiError(404, "Not found");
    // Another site's page can make a browser send a GET here (an image, a link) even if it
    // cannot read the answer: the API serves only its own page, a typed URL and non-browsers.
    const site = request.headers.get("sec-fetch-site");
    if (site !== null && site !== "same-origin" && site !== "none") {
      throw new ApiError(403, "The API answers the console's own page only");
    }
    const route = Object.hasOwn(methods, request.method) ? methods[request.method] : undefined;
    if (!route) {
      throw new ApiError(405, `${url.pathname} allows ${Object.keys(methods).join(", ")}`);
    }
    const open = route === postSession || route === getSession;
    if (!WRITES.has(route) && !open && deps.token !== undefined) {
      const bearer = bearerToken(request);
      const ok = (bearer !== undefined && sameSecret(bearer, deps.token)) ||
        deps.sessions.valid(cookie(request, SESSION_COOKIE));
      if (!ok) throw new ApiError(401, "A valid token is required");
    }
    return await route({ request, url, deps });
  };

  return async (request) => {
    let response: Response;
    try {
      response = await handle(request);
    } catch (err) {
      if (err instanceof ApiError) {
        response = json({ error: err.message }, err.status);
      } else {
        log.error("request failed", { path: new URL(request.url).pathname, error: String(err) });
        response = json({ error: "Internal error" }, 500);
      }
    }
    return withSecurityHeaders(response);
  };
}
