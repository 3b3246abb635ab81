/**
 * Find an event by user id, event id or trace id, and show its path: accepted (where and when),
 * then written, superseded, dead-lettered or not yet written. The search's progress shows while
 * it runs (its answer is streamed as JSON lines), and Cancel aborts it: the console stops the
 * scan when the request goes away.
 */
import { ApiError, getJsonLines } from "./api.js";
import { el, fmt, fmtSeconds, replaceChildren, setText } from "./dom.js";
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
        ` (dead-letter topic ${path.partition} / ${path.offset}), `,
        el(
          "span",
          { "data-testid": "find-redriven", "data-redriven": path.redriven ? "yes" : "no" },
          path.redriven
            ? `re-driven: back on the topic at ${path.redriven.partition} / ${path.redriven.offset}`
            : "not re-driven (no re-driven copy among the records read)",
        ),
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

/** Partitions named in one progress line, at most. */
const SHOWN_PARTITIONS = 6;

function showProgress(p) {
  const meter = document.getElementById("find-meter");
  meter.hidden = false;
  meter.max = p.maxRecords;
  meter.value = p.records;
  const reached = p.partitions.slice(0, SHOWN_PARTITIONS).map((q) =>
    `${q.partition} at ${q.reached} (of ${q.start}–${q.end})`
  );
  if (p.partitions.length > SHOWN_PARTITIONS) reached.push("…");
  setText(
    "find-progress",
    `${p.phase === "topic" ? "topic" : "dead letters"} ${p.topic}: ` +
      `${fmt(p.records, 0)} of at most ${fmt(p.maxRecords, 0)} records, ` +
      `${fmtSeconds(p.elapsedMs / 1000)} of at most ${fmtSeconds(p.maxMs / 1000)}; ` +
      `partition ${reached.join(", ")}`,
  );
}

function showResults(data) {
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
          // A re-driven record names the dead letter it came from (record text: untrusted).
          f.accepted.redriven_from.bytes === null ? null : [
            ", re-driven from dead letter ",
            untrusted(f.accepted.redriven_from, "find-redriven-from"),
          ],
        ),
        el("p", { "data-testid": "find-path" }, ...pathText(f.path)),
        traceLine(f.trace),
        recordCard(f.record),
      )
    ),
  );
}

/** The search running, if any: its AbortController. */
let running = null;

async function search(e) {
  e.preventDefault();
  running?.abort();
  const controller = new AbortController();
  running = controller;
  const by = document.getElementById("find-by").value;
  const id = document.getElementById("find-input").value.trim();
  document.getElementById("find-cancel").disabled = false;
  document.getElementById("find-meter").hidden = true;
  setText("find-progress", "");
  setText("find-status", "searching…");
  replaceChildren(document.getElementById("find-results"), []);
  try {
    let data = null;
    await getJsonLines(`/api/find?${by}=${encodeURIComponent(id)}`, controller.signal, (line) => {
      if (line.progress) showProgress(line.progress);
      else if (line.result) data = line.result;
      else if (line.error) throw new ApiError(line.status ?? 500, line.error);
    });
    if (data === null) throw new Error("the search ended without an answer");
    showResults(data);
  } catch (err) {
    // A newer search, or Cancel, aborted this one: the newer one owns the status.
    if (controller.signal.aborted) {
      if (running === controller) setText("find-status", "Search cancelled");
      return;
    }
    setText("find-status", `Search failed: ${err.message}`);
  } finally {
    if (running === controller) {
      running = null;
      document.getElementById("find-cancel").disabled = true;
    }
  }
}

/** Aborts the running search: its request ends, and the console stops reading for it. */
function cancel() {
  running?.abort();
}

/** Wires the form. */
export function initFind() {
  document.getElementById("find-form").addEventListener("submit", search);
  document.getElementById("find-cancel").addEventListener("click", cancel);
}
