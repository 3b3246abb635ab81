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
