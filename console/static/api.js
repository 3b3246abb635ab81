/**
 * The page's calls to the console's API: same origin, the session cookie sent by the browser,
 * JSON in and out.
 */

/** An API error with the HTTP status. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GET `path` as JSON. @throws {ApiError} */
export async function getJson(path) {
  const res = await fetch(path, { credentials: "same-origin" });
  return await answer(res);
}

/** POST `body` as JSON to `path`. @throws {ApiError} */
export async function postJson(path, body, headers = {}) {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return await answer(res);
}

async function answer(res) {
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, data?.error ?? `HTTP ${res.status}`);
  return data;
}

/** Most lines one streamed answer may have: the server sends far fewer (its progress is bounded). */
const MAX_LINES = 100_000;

/**
 * GET `path` as a stream of JSON lines (`Accept: application/x-ndjson`), calling `onLine` with
 * each as it arrives; aborting `signal` cancels the request, and the server stops its work.
 * @throws {ApiError} when the answer is not 2xx; the abort's error once aborted.
 */
export async function getJsonLines(path, signal, onLine) {
  const res = await fetch(path, {
    credentials: "same-origin",
    headers: { accept: "application/x-ndjson" },
    signal,
  });
  if (!res.ok) return await answer(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (let lines = 0; lines < MAX_LINES;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += value;
    const parts = buffered.split("\n");
    buffered = parts.pop();
    for (const part of parts) {
      if (part === "") continue;
      lines++;
      onLine(JSON.parse(part));
    }
  }
  await reader.cancel();
}
