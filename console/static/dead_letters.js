/**
 * Dead letters: groups by stage and reason with counts; a group opens to its records, newest
 * first, 20 a page; re-drive one record, a group or all, always after a dry-run count.
 */
import { getJson, postJson } from "./api.js";
import { el, replaceChildren, setText } from "./dom.js";
import { recordCard, untrusted } from "./record_card.js";

let openGroup = null;
let page = 0;
let pending = null; // { scope, confirm }

/** Loads the groups. */
export async function loadGroups() {
  setText("dlq-status", "reading…");
  try {
    const data = await getJson("/api/dead-letters");
    setText(
      "dlq-status",
      `${data.read} newest of ${data.total} dead letters read${
        data.partial ? " (partial: time limit)" : ""
      }`,
    );
    replaceChildren(
      document.getElementById("dlq-groups"),
      data.groups.map((g) =>
        el(
          "tr",
          { "data-testid": "dlq-group", "data-group-id": g.id, "data-count": g.count },
          el(
            "td",
            { "data-testid": "dlq-group-stage" },
            untrusted(g.stage, "dlq-group-stage-text"),
          ),
          el(
            "td",
            { "data-testid": "dlq-group-reason" },
            untrusted(g.reason, "dlq-group-reason-text"),
          ),
          el("td", { class: "num", "data-testid": "dlq-group-count" }, String(g.count)),
          el("td", {}, g.newest),
          el(
            "td",
            {},
            button("Open", "dlq-group-open", () => openRecords(g.id, 0)),
            button(
              "Re-drive group",
              "dlq-group-redrive",
              () => ask({ scope: "group", group: g.id }),
            ),
          ),
        )
      ),
    );
  } catch (err) {
    setText("dlq-status", `Cannot read dead letters: ${err.message}`);
  }
}

async function openRecords(id, at) {
  openGroup = id;
  page = at;
  const data = await getJson(`/api/dead-letters/records?group=${id}&page=${at}`);
  page = data.page;
  document.getElementById("dlq-records-section").hidden = false;
  document.getElementById("dlq-records-section").dataset.groupId = id;
  setText("dlq-page", `page ${data.page + 1} of ${data.pages} (${data.total} records)`);
  document.getElementById("dlq-prev").disabled = data.page === 0;
  document.getElementById("dlq-next").disabled = data.page + 1 >= data.pages;
  replaceChildren(
    document.getElementById("dlq-records"),
    data.items.map((d) =>
      letterCard(
        d,
        el(
          "dl",
          { class: "figures", "data-testid": "dlq-error" },
          el("dt", {}, "dead-lettered"),
          el("dd", {}, d.time),
          el("dt", {}, "stage"),
          el("dd", {}, untrusted(d.stage, "dlq-stage")),
          el("dt", {}, "error"),
          el("dd", {}, untrusted(d.reason, "dlq-reason")),
          el("dt", {}, "from"),
          el("dd", {}, `${d.origin.topic} / ${d.origin.partition ?? "?"} / ${d.origin.offset}`),
        ),
        button("Re-drive this record", "dlq-record-redrive", () =>
          ask({ scope: "record", partition: d.partition, offset: d.offset })),
      )
    ),
  );
}

/** A dead letter's record, or a note when retention removed it since the dead letters were read. */
function letterCard(d, ...children) {
  if (d.record) return recordCard(d.record, ...children);
  return el(
    "article",
    {
      class: "record",
      "data-testid": "record",
      "data-partition": d.partition,
      "data-offset": d.offset,
    },
    el("p", {}, `${d.partition} / ${d.offset}: no longer on the dead-letter topic`),
    ...children,
  );
}

function button(label, testid, onClick) {
  const b = el("button", { type: "button", "data-testid": testid }, label);
  b.addEventListener("click", onClick);
  return b;
}

/** Step one: the dry-run count. */
async function ask(scope) {
  const panel = document.getElementById("redrive-panel");
  setText("redrive-result", "");
  try {
    const dry = await postJson("/api/redrive", { ...scope, dryRun: true });
    pending = { scope, confirm: dry.confirm };
    panel.hidden = false;
    panel.dataset.scope = scope.scope;
    setText(
      "redrive-count",
      `${dry.moved} dead letters would move back to the topic (${dry.skipped} others passed over), ` +
        `as consumer group ${dry.groupId}.`,
    );
    document.getElementById("redrive-go").disabled = dry.moved === 0;
  } catch (err) {
    panel.hidden = true;
    setText("redrive-result", `Re-drive refused: ${err.message}`);
  }
}

/** Step two: the run, with the dry run's confirmation. */
async function go() {
  if (!pending) return;
  const { scope, confirm } = pending;
  pending = null;
  document.getElementById("redrive-panel").hidden = true;
  try {
    const done = await postJson("/api/redrive", { ...scope, dryRun: false, confirm });
    setText("redrive-result", `Moved ${done.moved} dead letters back to the topic.`);
    await loadGroups();
  } catch (err) {
    setText("redrive-result", `Re-drive failed: ${err.message}`);
  }
}

/** Wires the section's buttons. */
export function initDeadLetters() {
  document.getElementById("dlq-refresh").addEventListener("click", loadGroups);
  document.getElementById("redrive-all").addEventListener("click", () => ask({ scope: "all" }));
  document.getElementById("redrive-go").addEventListener("click", go);
  document.getElementById("redrive-cancel").addEventListener("click", () => {
    pending = null;
    document.getElementById("redrive-panel").hidden = true;
  });
  document.getElementById("dlq-prev").addEventListener(
    "click",
    () => openRecords(openGroup, page - 1),
  );
  document.getElementById("dlq-next").addEventListener(
    "click",
    () => openRecords(openGroup, page + 1),
  );
}
