/**
 * The README and the manual in `docs/` link to each other and into the code: every relative link
 * must point at a file that exists and, with a `#fragment`, at a heading that file has. The README
 * stays a README (what, picture, two commands, configuration, one benchmark table, links).
 */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

async function markdownFiles(): Promise<URL[]> {
  const files = [new URL("README.md", root)];
  for await (const entry of Deno.readDir(new URL("docs/", root))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(new URL(`docs/${entry.name}`, root));
  }
  return files.toSorted((a, b) => a.href.localeCompare(b.href));
}

/** The text outside fenced code blocks, where a line starting with `#` is a heading. */
function withoutFences(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
}

/** The text outside code blocks and inline code spans, where links are links. */
function prose(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, "");
}

/**
 * GitHub's anchors for a file's headings: the heading's text lower-cased, punctuation other than
 * `-` and `_` removed, spaces turned into `-`; a repeated anchor gets `-1`, `-2`, ….
 */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, text] of withoutFences(markdown).matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const plain = text!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/`/g, "");
    const slug = plain.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "").replace(
      / /g,
      "-",
    );
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?: "[^"]*")?\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("headingAnchors() follows GitHub's rules", () => {
  const anchors = headingAnchors(
    "# Kafka connection (ingest, worker and redrive alike)\n## `WAREHOUSE_URL` and S3\n" +
      "## Ingest\n## Ingest\n```sh\n# not a heading\n```\n",
  );
  assert.deepEqual([...anchors], [
    "kafka-connection-ingest-worker-and-redrive-alike",
    "warehouse_url-and-s3",
    "ingest",
    "ingest-1",
  ]);
});

Deno.test("every relative link of the README and docs/ resolves, anchors included", async () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of await markdownFiles()) {
    const markdown = await Deno.readTextFile(file);
    const name = file.href.slice(root.href.length);
    for (const link of relativeLinks(markdown)) {
      checked++;
      const [path, fragment] = link.split("#", 2) as [string, string | undefined];
      const target = path === "" ? file : new URL(path, file);
      if (!(await exists(target))) {
        broken.push(`${name}: ${link} (no such file)`);
        continue;
      }
      if (fragment === undefined) continue;
      if (!target.pathname.endsWith(".md")) {
        broken.push(`${name}: ${link} (an anchor into a file that is not markdown)`);
        continue;
      }
      const anchors = headingAnchors(await Deno.readTextFile(target));
      if (!anchors.has(decodeURIComponent(fragment))) {
        broken.push(`${name}: ${link} (no heading with that anchor)`);
      }
    }
  }
  assert.ok(checked > 0, "the README and docs/ have relative links to check");
  assert.deepEqual(broken, [], `broken links:\n${broken.join("\n")}`);
});

Deno.test("the README stays a README: at most 250 lines", async () => {
  const lines = (await Deno.readTextFile(new URL("README.md", root))).split("\n").length - 1;
  assert.ok(lines <= 250, `README.md has ${lines} lines; the manual goes to docs/`);
});
