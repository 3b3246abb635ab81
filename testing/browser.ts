/**
 * The test kit's browser: Debian's headless Chromium, driven over the DevTools protocol with
 * Deno's own WebSocket. No browser is downloaded and no npm package is needed: the tests use
 * the system's `chromium` (CI installs it), or the binary `CHROMIUM_PATH` names.
 *
 * Only what the console's tests need: open a page, evaluate an expression in it, wait for a
 * condition, click, take a screenshot, and record what a hostile page could do (dialogs,
 * navigations, console errors).
 *
 * @example
 * ```ts
 * await using browser = await launchBrowser();
 * const page = await browser.newPage();
 * await page.goto("http://127.0.0.1:8070/");
 * await page.waitFor("document.querySelector('#lag') !== null", "the lag table");
 * ```
 */
import { waitUntil } from "./wait.ts";

/** Candidates for the browser binary, the real one before Debian's wrapper script. */
const CANDIDATES = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"];

/**
 * Flags for a quiet, closed machine: headless, no sandbox (tests run as root), and none of the
 * background connections that a closed network refuses many at a time.
 */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-extensions",
  "--disable-dev-shm-usage",
  "--remote-debugging-port=0",
];

/** What a page did that a test may want to see. */
export interface PageEvents {
  /** JavaScript dialogs (`alert`, `confirm`, `prompt`) opened: each is dismissed. */
  dialogs: string[];
  /** URLs the main frame navigated to, in order. */
  navigations: string[];
  /** Console messages of level error, and uncaught exceptions. */
  errors: string[];
}

/** One tab. */
export interface Page {
  readonly events: PageEvents;
  /** Navigates and resolves once the page's load event fired. */
  goto(url: string, timeoutMs?: number): Promise<void>;
  /**
   * The value of `expression` (awaited when it is a promise), as JSON.
   * @throws {Error} with the exception's text when the expression throws.
   */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy. @throws {Error} naming `what` after `timeoutMs`. */
  waitFor(expression: string, what: string, timeoutMs?: number): Promise<void>;
  /** Clicks the first element matching `selector` (by its `click()`). */
  click(selector: string): Promise<void>;
  /** A PNG of the viewport (`fullPage`: of the whole page). */
  screenshot(opts?: { fullPage?: boolean }): Promise<Uint8Array>;
}

/** A running browser; `await using` closes it. */
export interface Browser extends AsyncDisposable {
  newPage(opts?: { width?: number; height?: number }): Promise<Page>;
  close(): Promise<void>;
}

/** The browser binary: `CHROMIUM_PATH`, else the first candidate that exists. */
export function chromiumPath(): string {
  const configured = Deno.env.get("CHROMIUM_PATH");
  if (configured) return configured;
  for (const path of CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* next */ }
  }
  throw new Error(
    "No Chromium found: install Debian's chromium package or set CHROMIUM_PATH",
  );
}

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
  result?: unknown;
  error?: { message: string };
};

/**
 * Starts headless Chromium with a fresh profile and connects to it.
 * @throws {Error} when no Chromium is installed or it does not start within `timeoutMs`.
 */
export async function launchBrowser(timeoutMs = 30_000): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "browser-" });
  const child = new Deno.Command(chromiumPath(), {
    args: [...FLAGS, `--user-data-dir=${profile}`, "about:blank"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const cleanup = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };

  // Chromium writes its port and the browser's path to this file once it listens.
  let endpoint = "";
  try {
    await waitUntil(
      async () => {
        try {
          const [port, path] = (await Deno.readTextFile(`${profile}/DevToolsActivePort`)).split(
            "\n",
          );
          if (!port || !path) return false;
          endpoint = `ws://127.0.0.1:${port.trim()}${path.trim()}`;
          return true;
        } catch {
          return false;
        }
      },
      timeoutMs,
      "Chromium's DevTools port",
    );
  } catch (err) {
    await cleanup();
    throw err;
  }

  const socket = new WebSocket(endpoint);
  const opened = Promise.withResolvers<void>();
  socket.onopen = () => opened.resolve();
  socket.onerror = () => opened.reject(new Error(`Cannot connect to Chromium at ${endpoint}`));
  try {
    await opened.promise;
  } catch (err) {
    await cleanup();
    throw err;
  }

  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners = new Map<string, (method: string, params: Record<string, unknown>) => void>();
  socket.onmessage = (e) => {
    const msg = JSON.parse(e.data as string) as Message;
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result);
    } else if (msg.method && msg.sessionId) {
      listeners.get(msg.sessionId)?.(msg.method, msg.params ?? {});
    }
  };
  const closed = Promise.withResolvers<void>();
  socket.onclose = () => {
    for (const p of pending.values()) p.reject(new Error("Chromium closed the connection"));
    pending.clear();
    closed.resolve();
  };

  const send = <T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<T> => {
    const id = nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return promise;
  };

  const newPage = async (opts: { width?: number; height?: number } = {}): Promise<Page> => {
    const { targetId } = await send<{ targetId: string }>("Target.createTarget", {
      url: "about:blank",
    });
    const { sessionId } = await send<{ sessionId: string }>("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const events: PageEvents = { dialogs: [], navigations: [], errors: [] };
    const loaded = new Set<(m: string) => void>();
    listeners.set(sessionId, (method, params) => {
      if (method === "Page.javascriptDialogOpening") {
        events.dialogs.push(String(params.message));
        send("Page.handleJavaScriptDialog", { accept: false }, sessionId).catch(() => {});
      } else if (method === "Page.frameNavigated") {
        const frame = params.frame as { parentId?: string; url: string };
        if (!frame.parentId) events.navigations.push(frame.url);
      } else if (method === "Runtime.exceptionThrown") {
        const details = params.exceptionDetails as {
          text: string;
          exception?: { description?: string };
        };
        events.errors.push(details.exception?.description ?? details.text);
      } else if (method === "Runtime.consoleAPICalled" && params.type === "error") {
        const args = params.args as { value?: unknown; description?: string }[];
        events.errors.push(args.map((a) => a.description ?? String(a.value)).join(" "));
      }
      for (const l of loaded) l(method);
    });
    const page = (m: string, p: Record<string, unknown> = {}) => send(m, p, sessionId);
    await page("Page.enable");
    await page("Runtime.enable");
    await page("Emulation.setDeviceMetricsOverride", {
      width: opts.width ?? 1280,
      height: opts.height ?? 900,
      deviceScaleFactor: 1,
      mobile: false,
    });

    const evaluate = async <T>(expression: string): Promise<T> => {
      const r = await page("Runtime.evaluate", {
        expression,
        awaitPromise: true,
        returnByValue: true,
      }) as {
        result: { value?: T };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      };
      if (r.exceptionDetails) {
        throw new Error(
          r.exceptionDetails.exception?.description ?? r.exceptionDetails.text,
        );
      }
      return r.result.value as T;
    };

    return {
      events,
      async goto(url, ms = 30_000) {
        const fired = Promise.withResolvers<void>();
        const onEvent = (m: string) => m === "Page.loadEventFired" && fired.resolve();
        loaded.add(onEvent);
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          const r = await page("Page.navigate", { url }) as { errorText?: string };
          if (r.errorText) throw new Error(`Cannot open ${url}: ${r.errorText}`);
          await Promise.race([
            fired.promise,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`${url} did not load in ${ms} ms`)), ms);
            }),
          ]);
        } finally {
          clearTimeout(timer);
          loaded.delete(onEvent);
        }
      },
      evaluate,
      waitFor: (expression, what, ms = 30_000) =>
        waitUntil(async () => Boolean(await evaluate(expression)), ms, what),
      async click(selector) {
        const found = await evaluate<boolean>(
          `(() => { const e = document.querySelector(${JSON.stringify(selector)}); ` +
            `if (!e) return false; e.click(); return true; })()`,
        );
        if (!found) throw new Error(`No element matches ${selector}`);
      },
      async screenshot(opts = {}) {
        const r = await page("Page.captureScreenshot", {
          format: "png",
          captureBeyondViewport: opts.fullPage ?? false,
        }) as { data: string };
        return Uint8Array.from(atob(r.data), (c) => c.charCodeAt(0));
      },
    };
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await send("Browser.close").catch(() => {});
      socket.close();
      await closed.promise;
      await cleanup();
    })();
    return closing;
  };
  return { newPage, close, [Symbol.asyncDispose]: close };
}
