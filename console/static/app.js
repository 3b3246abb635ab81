/**
 * The console page: signs in when the console asks for a token, opens the one event stream,
 * and wires the views.
 */
import { getJson, postJson } from "./api.js";
import { initDeadLetters, loadGroups } from "./dead_letters.js";
import { initFind } from "./find.js";
import { createLiveView } from "./live_view.js";
import { initPullRuns, loadPullRuns } from "./pull_runs.js";

const live = createLiveView();
let source;

function setConnection(state, text) {
  const node = document.getElementById("connection");
  node.dataset.state = state;
  node.textContent = text;
}

function ready() {
  connect();
  initDeadLetters();
  initFind();
  initPullRuns();
  loadGroups();
  loadPullRuns();
  document.dispatchEvent(new CustomEvent("console:ready"));
}

function connect() {
  source?.close();
  source = new EventSource("/api/live");
  source.addEventListener("open", () => setConnection("open", "live"));
  source.addEventListener("error", () => setConnection("closed", "reconnecting…"));
  source.addEventListener("hello", (e) => live.hello(JSON.parse(e.data)));
  source.addEventListener("snapshot", (e) => live.snapshot(JSON.parse(e.data)));
}

async function start() {
  try {
    const session = await getJson("/api/session");
    if (session.tokenRequired && !session.signedIn) {
      showTokenForm();
      return;
    }
  } catch {
    setConnection("closed", "the console does not answer");
    return;
  }
  ready();
}

function showTokenForm() {
  setConnection("closed", "token required");
  const form = document.getElementById("token-form");
  form.hidden = false;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = document.getElementById("token-input");
    const status = document.getElementById("token-status");
    try {
      await postJson("/api/session", {}, { authorization: `Bearer ${input.value}` });
      input.value = "";
      form.hidden = true;
      status.textContent = "";
      ready();
    } catch (err) {
      status.textContent = err.message;
    }
  });
}

start();
