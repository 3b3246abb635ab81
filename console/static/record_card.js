/**
 * One untrusted record (key, headers, value), as the server cut and cleaned it: text nodes
 * only, with a note when a field was cut or was not valid UTF-8.
 */
import { el } from "./dom.js";

/** A field's text and its notes. */
export function untrusted(field, testid) {
  const notes = [];
  if (field.bytes === null) notes.push("absent");
  if (field.truncated) notes.push(`cut, ${field.bytes} bytes in all`);
  if (field.invalidUtf8) notes.push("not valid UTF-8");
  return el(
    "span",
    { class: "field", "data-testid": testid },
    notes.length
      ? el("span", { class: "cut", "data-testid": `${testid}-note` }, `(${notes.join("; ")}) `)
      : null,
    el("span", { class: "untrusted", "data-testid": `${testid}-text` }, field.text),
  );
}

/** The record `view` (see `console/records/record_view.ts`), with `children` appended. */
export function recordCard(view, ...children) {
  return el(
    "article",
    {
      class: "record",
      "data-testid": "record",
      "data-partition": view.partition,
      "data-offset": view.offset,
    },
    el(
      "dl",
      { class: "figures" },
      el("dt", {}, "partition / offset"),
      el("dd", {}, `${view.partition} / ${view.offset}`),
      el("dt", {}, "timestamp"),
      el("dd", {}, view.timestamp),
      el("dt", {}, "key"),
      el("dd", {}, untrusted(view.key, "record-key")),
    ),
    el(
      "table",
      { "data-testid": "record-headers" },
      el(
        "tbody",
        {},
        view.headers.map((h) =>
          el(
            "tr",
            { "data-testid": "record-header" },
            el("th", {}, untrusted(h.name, "header-name")),
            el("td", {}, untrusted(h.value, "header-value")),
          )
        ),
      ),
    ),
    el("pre", { class: "untrusted value" }, untrusted(view.value, "record-value")),
    ...children,
  );
}
