/**
 * `console/main.ts` with the `console` task's flags, listening on 127.0.0.1 with Kafka
 * unreachable: the page and its files still answer, and the snapshot says what is wrong.
 */
import assert from "node:assert/strict";
import { startProgram } from "../testing/program.ts";
import { waitUntil } from "../testing/wait.ts";

Deno.test("with Kafka unreachable the console still serves its page and says what is wrong", async () => {
  const console = await startProgram("console", {
    KAFKA_BROKERS: "127.0.0.1:9",
    CONSOLE_POLL_MS: "200",
  });
  try {
    const base = `http://127.0.0.1:${console.port}`;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy")!, /^default-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/static\/app.js"><\/script>/);
    for (
      const file of [
        "/static/app.js",
        "/static/vendor/uPlot.iife.min.js",
        "/static/vendor/uPlot.min.css",
        "/static/vendor/uPlot.LICENSE",
      ]
    ) {
      const res = await fetch(`${base}${file}`);
      assert.equal(res.status, 200, file);
      await res.body?.cancel();
    }
    let problem: string | undefined;
    await waitUntil(
      async () => {
        const { latest } = await (await fetch(`${base}/api/snapshot`)).json();
        problem = latest?.kafka.problem;
        return problem !== undefined;
      },
      30_000,
      "a snapshot naming Kafka's problem",
    );
    assert.match(problem!, /127\.0\.0\.1:9/);
  } finally {
    assert.equal((await console.stop()).code, 0);
  }
});
