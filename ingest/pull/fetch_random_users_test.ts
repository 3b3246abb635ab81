import assert from "node:assert/strict";
import { fetchRandomUsers, FetchUsersError } from "./fetch_random_users.ts";

const OPTS = {
  url: "http://randomuser.test/api/",
  count: 2,
  timeoutMs: 1000,
  retries: 2,
  backoffMs: 1,
};

function scriptedFetch(answers: (() => Response | Promise<Response>)[]) {
  const urls: string[] = [];
  const fn = ((input: URL) => {
    urls.push(String(input));
    const next = answers.shift();
    if (!next) return Promise.reject(new TypeError("no more answers"));
    return Promise.resolve(next());
  }) as unknown as typeof fetch;
  return { fn, urls };
}

Deno.test("fetchRandomUsers() retries 5xx, 429 and network errors, then answers", async () => {
  const body = { results: [], info: {} };
  const { fn, urls } = scriptedFetch([
    () => new Response("", { status: 503 }),
    () => {
      throw new TypeError("connection reset");
    },
    () => Response.json(body),
  ]);
  assert.deepEqual(await fetchRandomUsers(OPTS, { fetch: fn }), body);
  assert.equal(urls.length, 3);
  assert.equal(urls[0], "http://randomuser.test/api/?results=2");
});

Deno.test("fetchRandomUsers() gives up after the configured retries", async () => {
  const { fn, urls } = scriptedFetch(Array(5).fill(() => new Response("", { status: 429 })));
  await assert.rejects(fetchRandomUsers(OPTS, { fetch: fn }), (err: unknown) => {
    assert.ok(err instanceof FetchUsersError);
    assert.equal(err.retriable, true);
    assert.match(err.message, /answered 429/);
    return true;
  });
  assert.equal(urls.length, 3, "one attempt and two retries");
});

Deno.test("fetchRandomUsers() does not retry a 4xx or a body that is not JSON", async () => {
  for (const answer of [() => new Response("", { status: 404 }), () => new Response("<html>")]) {
    const { fn, urls } = scriptedFetch([answer, answer, answer]);
    await assert.rejects(fetchRandomUsers(OPTS, { fetch: fn }), FetchUsersError);
    assert.equal(urls.length, 1);
  }
});

Deno.test("fetchRandomUsers() keeps the query of RANDOMUSER_URL (nat, seed) and sets results", async () => {
  const { fn, urls } = scriptedFetch([() => Response.json({ results: [], info: {} })]);
  await fetchRandomUsers({
    ...OPTS,
    url: "http://randomuser.test/api/?nat=fr,de&seed=demo&results=9",
  }, {
    fetch: fn,
  });
  assert.equal(urls[0], "http://randomuser.test/api/?nat=fr%2Cde&seed=demo&results=2");
});
