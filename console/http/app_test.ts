import assert from "node:assert/strict";
import { silentLogger } from "../../shared/logger.ts";
import { createPoller } from "../live/poller.ts";
import { snapshotAt } from "../live/snapshot_fixture.ts";
import {
  ApiError,
  type ApiRoute,
  type ConsoleAppDeps,
  createConsoleApp,
  writeRoute,
} from "./app.ts";
import { CONTENT_SECURITY_POLICY } from "./security_headers.ts";
import { createSessions } from "./sessions.ts";

const TOKEN = "0123456789abcdef-token";
const ORIGIN = "http://127.0.0.1:8070";

function app(overrides: Partial<ConsoleAppDeps> = {}) {
  const poller = createPoller({
    sample: () => Promise.resolve(snapshotAt(1)),
    intervalMs: 1000,
    historySize: 10,
    logger: silentLogger,
  });
  const writes: unknown[] = [];
  const redrive: ApiRoute = writeRoute(async ({ request }) => {
    writes.push(await request.json());
    return Response.json({ ok: true });
  });
  const handler = createConsoleApp({
    poller,
    staticFiles: new Map([["/", {
      body: new TextEncoder().encode("<p>page</p>"),
      type: "text/html; charset=utf-8",
    }]]),
    sessions: createSessions(),
    host: "127.0.0.1",
    logger: silentLogger,
    routes: {
      "/api/write": { POST: redrive },
      "/api/boom": {
        GET: () => {
          throw new ApiError(409, "busy");
        },
      },
    },
    ...overrides,
  });
  return { handler, writes, poller };
}

const req = (path: string, init: RequestInit = {}) => new Request(`${ORIGIN}${path}`, init);

Deno.test("the console's answers carry a CSP without inline script, and refuse other host names", async () => {
  const { handler } = app();
  const page = await handler(req("/"));
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'self'/);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  assert.equal((await handler(req("/api/snapshot"))).status, 200, "reads are open without a token");
  for (const site of ["cross-site", "same-site"]) {
    const res = await handler(req("/api/snapshot", { headers: { "sec-fetch-site": site } }));
    assert.equal(res.status, 403, `another site's page cannot make the console read (${site})`);
  }
  assert.equal(
    (await handler(req("/api/snapshot", { headers: { "sec-fetch-site": "same-origin" } }))).status,
    200,
  );
  const rebound = await handler(new Request("http://evil.example:8070/api/snapshot"));
  assert.equal(rebound.status, 421, "DNS rebinding to 127.0.0.1 gets nothing");
  assert.deepEqual(await (await handler(req("/api/boom"))).json(), { error: "busy" });
  assert.equal((await handler(req("/nope"))).status, 404);
  assert.equal((await handler(req("/api/snapshot", { method: "DELETE" }))).status, 405);
});

Deno.test("without CONSOLE_TOKEN, actions that write are refused", async () => {
  const { handler, writes } = app();
  const res = await handler(req("/api/write", {
    method: "POST",
    headers: { origin: ORIGIN, "content-type": "application/json" },
    body: "{}",
  }));
  assert.equal(res.status, 403);
  assert.match((await res.json()).error, /CONSOLE_TOKEN/);
  assert.deepEqual(writes, []);
});

Deno.test("with CONSOLE_TOKEN, reads need the token or a session, and writes also the same origin", async () => {
  const { handler, writes } = app({ token: TOKEN });
  assert.deepEqual(await (await handler(req("/api/session"))).json(), {
    tokenRequired: true,
    signedIn: false,
  });
  assert.equal((await handler(req("/api/snapshot"))).status, 401);
  assert.equal((await handler(req("/api/live"))).status, 401, "the event stream too");
  assert.equal(
    (await handler(req("/api/snapshot", { headers: { authorization: `Bearer ${TOKEN}` } }))).status,
    200,
  );
  assert.equal((await handler(req("/", {}))).status, 200, "the page itself holds no data");

  const post = (headers: Record<string, string>, path = "/api/write") =>
    handler(
      req(path, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: '{"n":1}',
      }),
    );
  assert.equal((await post({ origin: ORIGIN })).status, 401, "no token");
  assert.equal(
    (await post({ origin: ORIGIN, authorization: "Bearer wrong-token-wrong" })).status,
    401,
  );
  assert.equal(
    (await post({ origin: "http://evil.example", authorization: `Bearer ${TOKEN}` })).status,
    403,
    "another origin",
  );
  assert.equal(
    (await post({ authorization: `Bearer ${TOKEN}` })).status,
    200,
    "curl with the token",
  );

  // A session made by the page with the token...
  assert.equal((await post({ authorization: `Bearer ${TOKEN}` }, "/api/session")).status, 403);
  const session = await post({ origin: ORIGIN, authorization: `Bearer ${TOKEN}` }, "/api/session");
  assert.equal(session.status, 200);
  const setCookie = session.headers.get("set-cookie")!;
  assert.match(setCookie, /^console_session=[\w-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
  const cookie = setCookie.split(";")[0]!;
  // ...authorises reads, and writes from the same origin only.
  assert.equal((await handler(req("/api/snapshot", { headers: { cookie } }))).status, 200);
  assert.deepEqual(await (await handler(req("/api/session", { headers: { cookie } }))).json(), {
    tokenRequired: true,
    signedIn: true,
  });
  assert.equal((await post({ cookie })).status, 403, "a cookie without Origin");
  assert.equal((await post({ cookie, origin: "http://evil.example" })).status, 403);
  assert.equal(
    (await post({ cookie, origin: ORIGIN, "sec-fetch-site": "cross-site" })).status,
    403,
  );
  assert.equal((await post({ cookie, origin: ORIGIN })).status, 200);
  assert.equal(
    (await handler(
      req("/api/write", {
        method: "POST",
        headers: { cookie, origin: ORIGIN, "content-type": "text/plain" },
        body: "{}",
      }),
    )).status,
    415,
    "a form post cannot write",
  );
  assert.equal(writes.length, 2);
});
