import assert from "node:assert/strict";
import { safeText } from "./safe_text.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("safeText() keeps markup as plain text and makes bidi controls and other controls visible", () => {
  const t = safeText(bytes("<script>alert(1)</script>\u202Egnp.exe\u0000\u200B ok\n"), 100);
  assert.equal(t.text, "<script>alert(1)</script>⟦U+202E⟧gnp.exe⟦U+0000⟧⟦U+200B⟧ ok\n");
  assert.deepEqual([t.truncated, t.invalidUtf8], [false, false]);
  assert.equal(
    safeText("javascript:alert(1)", 100).text,
    "javascript:alert(1)",
    "text, never a link",
  );
});

Deno.test("safeText() flags invalid UTF-8 and shows it as U+FFFD", () => {
  const t = safeText(new Uint8Array([0x61, 0xff, 0xfe, 0x62]), 10);
  assert.deepEqual(t, { text: "a\uFFFD\uFFFDb", bytes: 4, truncated: false, invalidUtf8: true });
  assert.deepEqual(safeText(null, 10), {
    text: "",
    bytes: null,
    truncated: false,
    invalidUtf8: false,
  });
});

Deno.test("safeText() cuts a 900 kB value to the limit without splitting a character", () => {
  const big = bytes("é".repeat(450_000)); // 900,000 bytes
  const t = safeText(big, 1_000);
  assert.equal(t.bytes, 900_000);
  assert.equal(t.truncated, true);
  assert.equal(t.invalidUtf8, false);
  assert.equal(t.text, "é".repeat(1_000));
  const emoji = safeText(bytes("😀".repeat(10)), 3);
  assert.equal(emoji.text, "😀😀😀", "code points, not UTF-16 units");
});
