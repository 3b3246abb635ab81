import assert from "node:assert/strict";
import { CSV_NULL, csvField, csvRow } from "./csv_row.ts";

Deno.test("csvField() writes NULL as the bare marker and the empty string as a quoted empty field", () => {
  assert.equal(csvField(null), CSV_NULL);
  assert.equal(csvField(""), '""');
  assert.equal(csvField(CSV_NULL), `"${CSV_NULL}"`, "a value equal to the marker is data");
});

Deno.test("csvField() quotes only what RFC 4180 needs, doubling quotes", () => {
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField('O"Brien'), '"O""Brien"');
  assert.equal(csvField("a,b"), '"a,b"');
  assert.equal(csvField("line\nbreak"), '"line\nbreak"');
  assert.equal(csvField("carriage\rreturn"), '"carriage\rreturn"');
  assert.equal(csvField('""'), '""""""');
  // Ordinary characters in CSV mode, for both engines: left as they are.
  assert.equal(csvField("tab\there"), "tab\there");
  assert.equal(csvField("back\\slash \\N \\."), "back\\slash \\N \\.");
  assert.equal(csvField(" Zoë 😀 "), " Zoë 😀 ");
  assert.equal(csvField("O'Brien"), "O'Brien");
});

Deno.test("csvRow() joins fields with commas and ends the line with LF", () => {
  assert.equal(csvRow(["a", null, "", "b,c"]), `a,${CSV_NULL},"","b,c"\n`);
  assert.equal(csvRow([]), "\n");
});
