/**
 * Find an event by user id, event id or trace id, and show its path: accepted (where and when),
 * then written, superseded, dead-lettered or not yet written.
 */
import { getJson } from "./api.js";
import { el, replaceChildren, setText } from "./dom.js";
import { recordCard, untrusted } from "./record_card.js";

function pathText(path) {
  switch (path.kind) {
    case "written":
      return [`written: first ${path.date_added}, last ${path.updated_at}`];
    case "superseded":
      return [
        `superseded by event ${path.by.event_id} (${path.by.source}, accepted ${path.by.event_time})`,
      ];
    case "dead-lettered":
      return [
        "dead-lettered: ",
        untrusted(path.stage, "find-dlq-stage"),
        " — ",
        untrusted(path.reason, "find-dlq-reason"),
        ` (dead-letter topic ${path.partition} / ${path.offset})`,
      ];
    case "waiting":
      return [
        path.committed === null
          ? "not yet written: the workers have committed nothing on this partition"
          : `not yet written: ${path.recordsAhead} records ahead of it behind committed offset ${path.committed}`,
      ];
    default:
      return [`unknown: ${path.why}`];
  }
}

/**
 * The event's trace: its id, linked when the console has a CONSOLE_TRACE_URL (the server builds
 * the URL from the template and a trace id of 32 hex digits; only http(s) links are made).
 */
function traceLine(trace) {
  if (!trace) return null;
  const id = untrusted({ text: trace.id }, "find-trace-id");
  if (!trace.url || !/^https?:\/\//.test(trace.url)) return el("p", {}, "trace ", id);
  return el(
    "p",
    {},
    "trace ",
    el("a", {
      href: trace.url,
      rel: "noopener noreferrer",
      target: "_blank",
      "data-testid": "find-trace",
    }, trace.id),
  );
}

async function search(e) {
  e.preventDefault();
  const by = document.getElementById("find-by").value;
  const id = document.getElementById("find-input").value.trim();
  setText("find-status", "searching…");
  replaceChildren(document.getElementById("find-results"), []);
  try {
    const data = await getJson(`/api/find?${by}=${encodeURIComponent(id)}`);
    const scan = data.topicScan;
    setText(
      "find-status",
      `${data.found.length} found; ${scan.records} records read on partition(s) ${
        scan.partitions.join(", ")
      }` +
        (scan.stoppedBy === "done" ? "" : ` (stopped by the ${scan.stoppedBy} limit)`),
    );
    replaceChildren(
      document.getElementById("find-results"),
      data.found.map((f) =>
        el(
          "section",
          { class: "found", "data-testid": "find-match", "data-path": f.path.kind },
          el(
            "p",
            { "data-testid": "find-accepted" },
            `accepted: ${f.accepted.topic} / ${f.accepted.partition} / ${f.accepted.offset}, `,
            untrusted(f.accepted.accepted_at, "find-accepted-at"),
            ", source ",
            untrusted(f.accepted.source, "find-source"),
            ", event ",
            untrusted(f.accepted.event_id, "find-event-id"),
          ),
          el("p", { "data-testid": "find-path" }, ...pathText(f.path)),
          traceLine(f.trace),
          recordCard(f.record),
        )
      ),
    );
  } catch (err) {
    setText("find-status", `Search failed: ${err.message}`);
  }
}

/** Wires the form. */
export function initFind() {
  document.getElementById("find-form").addEventListener("submit", search);
}
