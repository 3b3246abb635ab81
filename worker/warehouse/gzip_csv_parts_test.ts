import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { csvRow } from "./csv_row.ts";
import { gzipCsvParts } from "./gzip_csv_parts.ts";

const text = (bytes: Uint8Array) => new TextDecoder("utf-8", { fatal: true }).decode(bytes);

async function collect(...args: Parameters<typeof gzipCsvParts>) {
  const parts = [];
  for await (const part of gzipCsvParts(...args)) parts.push(part);
  return parts;
}

Deno.test("gzipCsvParts() yields one gzip object whose content is exactly the CSV of the rows", async () => {
  const rows = [["1", "Zoë", null], ["2", "a,b", ""]];
  const parts = await collect(rows, { trailing: ["2026-01-02T03:04:05.000Z"] });
  assert.equal(parts.length, 1);
  const expected = rows.map((r) => csvRow([...r, "2026-01-02T03:04:05.000Z"])).join("");
  assert.deepEqual([parts[0]!.body[0], parts[0]!.body[1]], [0x1f, 0x8b], "gzip magic");
  assert.equal(text(gunzipSync(parts[0]!.body)), expected);
  assert.equal(parts[0]!.rows, 2);
  assert.equal(parts[0]!.csvBytes, new TextEncoder().encode(expected).length);
});

Deno.test("gzipCsvParts() splits at row boundaries so that no part exceeds maxPartBytes", async () => {
  const rows = Array.from(
    { length: 1000 },
    (_, i) => [String(i).padStart(5, "0"), "é".repeat(i % 50)],
  );
  const max = 4096;
  const parts = await collect(rows, { maxPartBytes: max });
  assert.ok(parts.length > 5, `${parts.length} parts`);
  let all = "";
  for (const part of parts) {
    const csv = gunzipSync(part.body);
    assert.ok(csv.length <= max, `${csv.length} bytes in a part`);
    assert.equal(csv.length, part.csvBytes);
    assert.ok(text(csv).endsWith("\n"), "a part ends with a whole row");
    all += text(csv);
  }
  assert.equal(all, rows.map((r) => csvRow(r)).join(""), "every row once, in order");
  assert.equal(parts.reduce((n, p) => n + p.rows, 0), 1000);
});

Deno.test("gzipCsvParts() puts a row larger than maxPartBytes in a part of its own", async () => {
  const big = "x".repeat(3 * 1024 * 1024); // larger than the 1 MiB encoding chunk too
  const parts = await collect([["a"], [big], ["b"]], { maxPartBytes: 1024 });
  assert.deepEqual(parts.map((p) => p.rows), [1, 1, 1]);
  assert.equal(text(gunzipSync(parts[1]!.body)), `${big}\n`);
});

Deno.test("gzipCsvParts() yields nothing for no rows", async () => {
  assert.deepEqual(await collect([]), []);
});

Deno.test("gzipCsvParts() keeps every byte across encoding chunks and part boundaries", async () => {
  // ~4 MiB of multi-byte CSV: several 1 MiB encoding chunks, parts of at most 1.5 MiB.
  const rows = Array.from({ length: 9000 }, (_, i) => [`${i}`, "Zoë 😀 ".repeat(40 + (i % 7))]);
  const max = 1.5 * 1024 * 1024;
  const parts = await collect(rows, { maxPartBytes: max, trailing: [null] });
  assert.ok(parts.length >= 3, `${parts.length} parts`);
  const csv = parts.map((p) => gunzipSync(p.body));
  for (const c of csv) assert.ok(c.length <= max, `${c.length} bytes`);
  for (const c of csv.slice(0, -1)) assert.ok(c.length > max - 1024, "a part is filled first");
  assert.equal(csv.map(text).join(""), rows.map((r) => csvRow([...r, null])).join(""));
});
