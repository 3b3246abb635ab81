/**
 * The page's only way to build elements. Every value from the server is untrusted (record keys,
 * values, headers, reasons, URLs): it becomes a text node or `textContent`, never markup, and
 * attributes are set only from a short list that cannot run script.
 */

const SAFE_ATTRIBUTES = new Set([
  "id",
  "class",
  "type",
  "name",
  "value",
  "title",
  "colspan",
  "disabled",
  "hidden",
  "for",
  "placeholder",
  "autocomplete",
  // Only on links the console builds itself (the trace link from CONSOLE_TRACE_URL).
  "href",
  "rel",
  "target",
]);

/**
 * Creates `<tag>` with `attrs` (`data-*`, `aria-*` and a few plain attributes; anything else is
 * refused) and `children` (strings become text nodes).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (!(SAFE_ATTRIBUTES.has(name) || /^(data|aria)-[a-z0-9-]+$/.test(name))) {
      throw new Error(`el(): attribute ${name} is not allowed`);
    }
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

/** Sets the text of the element with `id`. */
export function setText(id, value) {
  const node = document.getElementById(id);
  if (node) node.textContent = String(value);
}

/** Replaces the children of `node` with `children`. */
export function replaceChildren(node, children) {
  node.replaceChildren(...children);
}

/** A number with at most `digits` decimals, or "–". */
export function fmt(n, digits = 1) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  return Number(n).toLocaleString("en", { maximumFractionDigits: digits });
}

/** Seconds as "12 ms", "3.4 s" or "2 min 5 s". */
export function fmtSeconds(s) {
  if (s === null || s === undefined) return "–";
  if (s === 0) return "0 s";
  if (s < 1) return `${fmt(s * 1000, 1)} ms`;
  if (s < 120) return `${fmt(s, 1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
