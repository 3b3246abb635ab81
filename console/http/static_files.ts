/**
 * The page's files, read once at start into memory: a fixed set of paths (nothing outside
 * `console/static/` can be named), each with its content type.
 */

/** One static file. */
export interface StaticFile {
  body: Uint8Array<ArrayBuffer>;
  type: string;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  txt: "text/plain; charset=utf-8",
};

/** The folder the page's files are in. */
export const STATIC_DIR = new URL("../static/", import.meta.url);

/**
 * Reads every file under `dir` (one level of subfolders) whose extension is known, by URL path
 * (`/static/app.js`; `index.html` is also `/`).
 */
export async function loadStaticFiles(dir: URL = STATIC_DIR): Promise<Map<string, StaticFile>> {
  const out = new Map<string, StaticFile>();
  const walk = async (folder: URL, prefix: string, depth: number) => {
    for await (const entry of Deno.readDir(folder)) {
      if (entry.isDirectory && depth < 1) {
        await walk(new URL(`${entry.name}/`, folder), `${prefix}${entry.name}/`, depth + 1);
        continue;
      }
      const ext = entry.name.split(".").at(-1) ?? "";
      const type = TYPES[entry.name.endsWith("LICENSE") ? "txt" : ext];
      if (!entry.isFile || !type) continue;
      const body = await Deno.readFile(new URL(entry.name, folder));
      out.set(`/static/${prefix}${entry.name}`, { body, type });
    }
  };
  await walk(dir, "", 0);
  const index = out.get("/static/index.html");
  if (index) out.set("/", index);
  return out;
}
