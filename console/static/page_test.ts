/**
 * The page's code renders untrusted record fields as text only: no HTML sinks, no inline
 * script or style, nothing loaded from another origin.
 */
import assert from "node:assert/strict";

const dir = new URL("./", import.meta.url);

async function pageFiles(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /\.(js|html|css)$/.test(entry.name)) {
      out.set(entry.name, await Deno.readTextFile(new URL(entry.name, dir)));
    }
  }
  return out;
}

Deno.test("the page's modules never write markup: no innerHTML, outerHTML, insertAdjacentHTML, document.write, eval", async () => {
  const files = await pageFiles();
  assert.ok(files.has("app.js") && files.has("dom.js"));
  for (const [name, text] of files) {
    if (!name.endsWith(".js")) continue;
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    for (
      const sink of [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setAttribute("on',
        "srcdoc",
      ]
    ) {
      assert.ok(!code.includes(sink), `${name} uses ${sink}`);
    }
  }
});

Deno.test("index.html has no inline script or style and loads nothing from another origin", async () => {
  const html = (await pageFiles()).get("index.html")!;
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(m[1]!, /\bsrc="\/static\//, "every script is a file of the console");
    assert.equal(m[2]!.trim(), "", "no inline script");
  }
  assert.doesNotMatch(html, /<style\b|\sstyle="|\son[a-z]+="/i, "no inline style or handler");
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, "nothing from another origin");
});
