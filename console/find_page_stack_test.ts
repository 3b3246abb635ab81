/**
 * The page's Find in headless Chromium against the console's own handler and page, with a search
 * that runs until it is stopped (no Kafka needed, and no race between a scan and a click): its
 * progress shows while it runs, and Cancel ends the request, which stops the search.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../shared/logger.ts";
import { launchBrowser } from "../testing/browser.ts";
import { waitUntil } from "../testing/wait.ts";
import type { FindOptions } from "./find/find_event.ts";
import { createConsoleApp } from "./http/app.ts";
import { findRoutes } from "./http/find_routes.ts";
import { createSessions } from "./http/sessions.ts";
import { loadStaticFiles } from "./http/static_files.ts";
import { createPoller } from "./live/poller.ts";

const USER = "6a1f2c3d-0000-4000-8000-000000000001";

Deno.test("the page shows a running search's progress, and its Cancel stops the search", async () => {
  const stopped: unknown[] = [];
  const find = (_query: unknown, opts: FindOptions) => {
    opts.onProgress?.({
      phase: "topic",
      topic: "user_created",
      records: 1_200,
      maxRecords: 50_000,
      elapsedMs: 300,
      maxMs: 10_000,
      partitions: [{ partition: 4, start: 0n, reached: 8_800n, end: 10_000n }],
    });
    // Runs until the console stops it: only an abort ends this search.
    return new Promise<never>((_, reject) =>
      opts.signal!.addEventListener("abort", () => {
        stopped.push(opts.signal!.reason);
        reject(opts.signal!.reason);
      }, { once: true })
    );
  };
  const shutdown = new AbortController();
  const handler = createConsoleApp({
    poller: createPoller({
      sample: () => Promise.reject(new Error("not sampled")),
      intervalMs: 1_000,
      historySize: 10,
      logger: silentLogger,
    }),
    staticFiles: await loadStaticFiles(),
    sessions: createSessions(),
    host: "127.0.0.1",
    logger: silentLogger,
    shutdown: shutdown.signal,
    routes: findRoutes(find, "user_created"),
  });
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  try {
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.addr.port}/#find`);
    // The page wires its forms once it knows it needs no token, then opens its live stream.
    await page.waitFor(
      `document.getElementById("connection").dataset.state === "open"`,
      "the page to be ready",
    );
    assert.equal(await page.evaluate(`document.getElementById("find-cancel").disabled`), true);
    await page.evaluate(
      `document.getElementById("find-by").value = "user_id";
       document.getElementById("find-input").value = ${JSON.stringify(USER)};
       document.getElementById("find-submit").click()`,
    );
    await page.waitFor(
      `document.getElementById("find-progress").textContent.includes("1,200 of at most 50,000")`,
      "the search's progress on the page",
    );
    assert.equal(
      await page.evaluate(`document.getElementById("find-progress").textContent`),
      "topic user_created: 1,200 of at most 50,000 records, 300 ms of at most 10 s; " +
        "partition 4 at 8800 (of 0–10000)",
    );
    assert.equal(await page.evaluate(`document.getElementById("find-meter").value`), 1_200);
    assert.equal(await page.evaluate(`document.getElementById("find-cancel").disabled`), false);
    assert.deepEqual(stopped, [], "the search runs");

    await page.click("#find-cancel");
    await waitUntil(() => stopped.length === 1, 10_000, "the console to stop the search");
    await page.waitFor(
      `document.getElementById("find-status").textContent === "Search cancelled"`,
      "the page to say so",
    );
    assert.equal(await page.evaluate(`document.getElementById("find-cancel").disabled`), true);
    assert.deepEqual(page.events.errors, [], "no script error");
  } finally {
    shutdown.abort();
  }
});
