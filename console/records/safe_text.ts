/**
 * Untrusted bytes as text that is safe to show: decoded as UTF-8 (invalid sequences become
 * U+FFFD and are flagged), controls and bidirectional-formatting characters made visible as
 * `⟦U+202E⟧` so that they cannot reorder or hide what is around them, and cut to a size.
 * The page renders the result with `textContent` only; this keeps a 900 kB value from reaching
 * it at all.
 */

/** Text fit for the page, and what was done to it. */
export interface SafeText {
  text: string;
  /** The original size in bytes (null: the field was absent). */
  bytes: number | null;
  /** Cut to the limit. */
  truncated: boolean;
  /** The bytes were not valid UTF-8. */
  invalidUtf8: boolean;
}

const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * C0 and C1 controls (except tab and newline), DEL, the bidi controls (ALM, LRM, RLM, LRE…RLO,
 * LRI…PDI), zero-width characters, the BOM and the line and paragraph separators.
 */
// deno-lint-ignore no-control-regex -- finding the controls is the point
const INVISIBLE = new RegExp(
  "[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff]",
  "g",
);

/** `bytes` (or a string) as safe text of at most `maxChars` code points. */
export function safeText(bytes: Uint8Array | string | null, maxChars: number): SafeText {
  if (bytes === null) return { text: "", bytes: null, truncated: false, invalidUtf8: false };
  let text: string;
  let invalidUtf8 = false;
  let size: number;
  let cut = false;
  if (typeof bytes === "string") {
    text = bytes;
    size = new TextEncoder().encode(bytes).length;
  } else {
    size = bytes.length;
    try {
      strict.decode(bytes);
    } catch {
      invalidUtf8 = true;
    }
    // Decode no more than the limit can show (at most 4 bytes per code point); streaming
    // leaves out a character cut in two at the end instead of showing U+FFFD for it.
    const head = bytes.subarray(0, maxChars * 4);
    cut = head.length < bytes.length;
    text = new TextDecoder("utf-8").decode(head, { stream: cut });
  }
  const chars = Array.from(text);
  const truncated = cut || chars.length > maxChars;
  const shown = chars.slice(0, maxChars).join("").replace(
    INVISIBLE,
    (c) => `⟦U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}⟧`,
  );
  return { text: shown, bytes: size, truncated, invalidUtf8 };
}
