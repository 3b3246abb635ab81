import assert from "node:assert/strict";
import { codePointLength, FIELD_PATTERNS, fitsCodePoints } from "./field_patterns.ts";

Deno.test("FIELD_PATTERNS.requiredText calls blank exactly what String.prototype.trim() removes", () => {
  for (let c = 1; c <= 0xffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const s = String.fromCharCode(c);
    assert.equal(
      FIELD_PATTERNS.requiredText.test(`${s} ${s}`),
      s.trim() !== "",
      `U+${c.toString(16).padStart(4, "0")}`,
    );
  }
});

Deno.test("FIELD_PATTERNS.text refuses U+0000; loneSurrogate finds lone surrogates, not pairs", () => {
  assert.ok(FIELD_PATTERNS.text.test(""));
  assert.ok(FIELD_PATTERNS.text.test("Zoë 😀 中"));
  assert.ok(!FIELD_PATTERNS.text.test("a\u0000"));
  assert.ok(!FIELD_PATTERNS.requiredText.test("x\u0000"));
  for (const lone of ["\ud800", "a\udfffb", "😀\ud83d", "\ude00😀"]) {
    assert.ok(FIELD_PATTERNS.loneSurrogate.test(lone), JSON.stringify(lone));
  }
  for (const fine of ["", "Zoë", "😀😀", "\ud83d\ude00", "\uffff\ue000"]) {
    assert.ok(!FIELD_PATTERNS.loneSurrogate.test(fine), JSON.stringify(fine));
  }
});

Deno.test("FIELD_PATTERNS.loneSurrogatePortable matches exactly what loneSurrogate matches", () => {
  const { loneSurrogate, loneSurrogatePortable } = FIELD_PATTERNS;
  // Every code point alone (String.fromCodePoint of a surrogate is a lone surrogate) ...
  for (let c = 0; c <= 0x10ffff; c++) {
    const s = String.fromCodePoint(c);
    if (loneSurrogatePortable.test(s) !== loneSurrogate.test(s)) {
      assert.fail(`they differ on U+${c.toString(16).padStart(4, "0")}`);
    }
  }
  // ... and surrogates beside each other, paired or not.
  for (
    const s of ["\ud83d\ude00", "a\udfffb", "😀\ud83d", "\ude00😀", "\ude00\ud83d", "\udbff\udfff"]
  ) {
    assert.equal(loneSurrogatePortable.test(s), loneSurrogate.test(s), JSON.stringify(s));
  }
  assert.ok(!/\\p\{/.test(loneSurrogatePortable.source), "no \\p{…}: Python's re has none");
  assert.ok(!/\\ud[89a-f]/i.test(loneSurrogatePortable.source), "no surrogate: Rust has none");
});

Deno.test("codePointLength() counts code points: a surrogate pair is one, a lone surrogate one", () => {
  assert.equal(codePointLength(""), 0);
  assert.equal(codePointLength("abc"), 3);
  assert.equal(codePointLength("😀😀"), 2);
  assert.equal(codePointLength("\ud83d"), 1);
  assert.equal(codePointLength("\ude00\ud83d"), 2);
  assert.equal(codePointLength("a😀\ud800"), 3);
  assert.ok(fitsCodePoints("😀".repeat(4), 4));
  assert.ok(!fitsCodePoints("😀".repeat(4) + "a", 4));
});

/** The UTC year of an RFC 3339 date-time, computed without the pattern. */
function utcYear(s: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|([+-])(\d\d):(\d\d))$/.exec(
    s,
  )!;
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]));
  const offset = m[7] === "Z" ? 0 : (m[8] === "-" ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  return new Date(d.getTime() - offset * 60_000).getUTCFullYear();
}

Deno.test("FIELD_PATTERNS.timestamp admits only instants in UTC years 0001..9999, whatever the offset", () => {
  const days = [
    "0000-12-31",
    "0001-01-01",
    "0001-01-02",
    "0001-12-31",
    "0002-01-01",
    "5000-06-15",
    "9998-12-31",
    "9999-01-01",
    "9999-12-30",
    "9999-12-31",
  ];
  const times = ["00:00:00", "00:00:00.000001", "12:34:56", "23:59:59", "23:59:59.999999"];
  const offsets = ["Z", "+00:00", "-00:00"];
  for (let minutes = 1; minutes < 24 * 60; minutes += 37) {
    const hm = `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${
      String(minutes % 60).padStart(2, "0")
    }`;
    offsets.push(`+${hm}`, `-${hm}`);
  }
  offsets.push("+23:59", "-23:59");
  let accepted = 0;
  for (const day of days) {
    for (const time of times) {
      for (const offset of offsets) {
        const s = `${day}T${time}${offset}`;
        const year = utcYear(s);
        const edge = day === "0001-01-01" || day === "9999-12-31" || day === "0000-12-31";
        if (FIELD_PATTERNS.timestamp.test(s)) {
          accepted++;
          assert.ok(year >= 1 && year <= 9999, `${s} is year ${year} in UTC`);
        } else if (!edge) {
          assert.fail(`${s} (year ${year} in UTC) is refused`);
        }
      }
    }
  }
  assert.ok(accepted > 2000, `${accepted} accepted`);
});

Deno.test("FIELD_PATTERNS.timestamp knows leap days, needs seconds and an offset", () => {
  for (
    const ok of ["2000-02-29T00:00:00Z", "0004-02-29T00:00:00Z", "2024-02-29T10:00:00.5+01:00"]
  ) {
    assert.ok(FIELD_PATTERNS.timestamp.test(ok), ok);
  }
  for (
    const bad of [
      "1900-02-29T00:00:00Z",
      "0000-02-29T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2023-04-31T00:00:00Z",
      "2023-01-01T10:00Z",
      "2023-01-01T10:00:00",
      "2023-01-01T24:00:00Z",
      "2023-01-01T10:00:60Z",
      "2023-01-01T10:00:00+24:00",
      "2023-01-01t10:00:00z",
      "+010000-01-01T00:00:00Z",
      "２０２３-01-01T10:00:00Z",
      "2023-01-01T10:00:00Z\n",
    ]
  ) {
    assert.ok(!FIELD_PATTERNS.timestamp.test(bad), JSON.stringify(bad));
  }
});

Deno.test("FIELD_PATTERNS are u-flag regexes that Python and Rust engines read alike", () => {
  for (const [name, re] of Object.entries(FIELD_PATTERNS)) {
    assert.equal(re.flags, "u", name);
    // The source is what the contract publishes: no class that differs between engines, no
    // surrogate escape (Rust cannot compile one) and no positive range into the astral planes.
    assert.ok(!/\\[sdwSDW]/.test(re.source), `${name} uses \\s, \\d or \\w`);
    assert.ok(!/\\ud[89a-f]/i.test(re.source), `${name} names a surrogate`);
    assert.ok(!/\\u\{/.test(re.source), `${name} uses \\u{…}, which Python cannot read`);
  }
});
