/** The ingests' pull runs, newest first. */
import { getJson } from "./api.js";
import { el, replaceChildren, setText } from "./dom.js";

/** Loads the runs. */
export async function loadPullRuns() {
  setText("pull-runs-status", "reading…");
  try {
    const data = await getJson("/api/pull-runs");
    const down = data.instances.filter((i) => !i.ok);
    setText(
      "pull-runs-status",
      `${data.runs.length} runs from ${data.instances.length} ingest(s)` +
        (down.length
          ? `; no answer from ${down.map((i) => `${i.url} (${i.problem})`).join(", ")}`
          : ""),
    );
    replaceChildren(
      document.getElementById("pull-runs-rows"),
      data.runs.map((r) =>
        el(
          "tr",
          { "data-testid": "pull-run", "data-outcome": r.outcome },
          el("td", {}, r.started_at),
          el("td", {}, r.finished_at),
          el("td", {}, r.trigger),
          el("td", { "data-testid": "pull-run-outcome" }, r.outcome),
          el("td", { class: "num" }, String(r.fetched)),
          el("td", { class: "num" }, String(r.produced)),
          el("td", { class: "num" }, String(r.rejected)),
          el("td", { class: "untrusted", "data-testid": "pull-run-error" }, r.error ?? ""),
          el("td", {}, r.instance),
        )
      ),
    );
  } catch (err) {
    setText("pull-runs-status", `Cannot read pull runs: ${err.message}`);
  }
}

/** Wires the refresh button. */
export function initPullRuns() {
  document.getElementById("pull-runs-refresh").addEventListener("click", loadPullRuns);
}
