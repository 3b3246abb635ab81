import assert from "node:assert/strict";
import { launchBrowser } from "./browser.ts";

Deno.test("launchBrowser() opens a page, evaluates, clicks, records dialogs and takes a PNG", async () => {
  const html = `<!doctype html><title>kit</title><button id="b" onclick="alert('hi')">b</button>` +
    `<p id="p">ready</p>`;
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(html, { headers: { "content-type": "text/html" } }),
  );
  await using browser = await launchBrowser();
  const page = await browser.newPage({ width: 400, height: 300 });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  await page.goto(url);
  assert.equal(await page.evaluate("document.title"), "kit");
  await page.waitFor("document.querySelector('#p')?.textContent === 'ready'", "the paragraph");
  await page.click("#b");
  await page.waitFor("true", "a turn of the page");
  assert.deepEqual(page.events.dialogs, ["hi"], "the dialog is recorded and dismissed");
  assert.deepEqual(page.events.navigations, [url]);
  await assert.rejects(page.evaluate("nope()"), /nope is not defined/);
  const png = await page.screenshot();
  assert.deepEqual([...png.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47], "a PNG");
});
