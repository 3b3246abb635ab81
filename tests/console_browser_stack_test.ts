/**
 * The console's page in a real browser (headless Chromium), against the real stack and the
 * real programs: the live view moves with load, lag in seconds rises while the worker is
 * stopped and falls back to zero, a dead letter of the write stage is re-driven from the page
 * once its cause is fixed, finding an event shows each path, hostile records stay inert, and a
 * write without the token is refused.
 *
 * It also takes the screenshots of `docs/console.md` (`docs/images/console-*.png`), so that
 * they show what the page really looks like.
 */
import assert from "node:assert/strict";
import { createPostgresDialect } from "../worker/warehouse/postgres_dialect.ts";
import { ROOT } from "../stack/paths.ts";
import { sharedStack } from "../stack/harness.ts";
import { type Browser, launchBrowser, type Page } from "../testing/browser.ts";
import { setupPipeline } from "../testing/pipeline.ts";
import { type RunningProgram, startProgram } from "../testing/program.ts";
import { sampleUser, testEvent, testUser, toMessage } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";
import { signedRequest, TEST_SECRET } from "../testing/webhook.ts";
import { HOSTILE_STRINGS, INVALID_UTF8 } from "./_fuzz.ts";

const TOKEN = "console-browser-test-token-0123";
const IMAGES = `${ROOT}/docs/images`;

/** A number shown by the element `testid` (its text, as the page formats it). */
const shown = (testid: string) =>
  `parseFloat(document.querySelector('[data-testid="${testid}"]')?.textContent ?? "NaN")`;

/** The `data-seconds` of every lag row. */
const LAG_SECONDS =
  `[...document.querySelectorAll('[data-testid="lag-seconds"]')].map((e) => Number(e.dataset.seconds))`;

Deno.test("the console's page in Chromium: live view, lag in seconds, re-drive, find, hostile records", async (t) => {
  const stack = await sharedStack();
  const p = await setupPipeline(stack, "c_page", 3);
  const programs: RunningProgram[] = [];
  let browser: Browser | undefined;
  try {
    // The table exists first, with a CHECK that makes one valid user a write-stage dead letter.
    for (const ddl of createPostgresDialect({ schema: p.schema, table: "users" }).createTable()) {
      await p.sql.unsafe(ddl);
    }
    await p.sql.unsafe(
      `ALTER TABLE ${p.schema}.users ADD CONSTRAINT no_rejects CHECK (first_name <> 'Reject Me')`,
    );
    const ingest = await startProgram("ingest", {
      KAFKA_BROKERS: stack.KAFKA_BROKERS,
      KAFKA_TOPIC: p.topic,
      WEBHOOK_SECRET: TEST_SECRET,
      PULL_ENABLED: "false",
    });
    programs.push(ingest);
    let worker = await startProgram("worker", p.workerEnv);
    programs.push(worker);
    const consoleProgram = await startProgram("console", {
      KAFKA_BROKERS: stack.KAFKA_BROKERS,
      KAFKA_TOPIC: p.topic,
      KAFKA_DLQ_TOPIC: p.dlq,
      KAFKA_GROUP_ID: p.groupId,
      CONSOLE_TOKEN: TOKEN,
      CONSOLE_INGEST_URLS: `http://127.0.0.1:${ingest.port}`,
      CONSOLE_WORKER_URLS: `http://127.0.0.1:${worker.port}`,
      CONSOLE_WAREHOUSE_URL: stack.WAREHOUSE_URL,
      WAREHOUSE_SCHEMA: p.schema,
      CONSOLE_TRACE_URL: "http://127.0.0.1:9/trace/{trace_id}",
    });
    programs.push(consoleProgram);
    const base = `http://127.0.0.1:${consoleProgram.port}`;

    /** POSTs `users` to the ingest, signed; the 202's event ids and traceparent. */
    const send = async (users: unknown[]) => {
      const request = await signedRequest(JSON.stringify(users));
      const response = await fetch(`http://127.0.0.1:${ingest.port}/v1/users`, {
        method: "POST",
        headers: request.headers,
        body: await request.arrayBuffer(),
      });
      const body = await response.json();
      assert.equal(response.status, 202, JSON.stringify(body));
      return {
        eventIds: body.event_ids as string[],
        traceparent: response.headers.get("traceparent")!,
      };
    };

    browser = await launchBrowser();
    const page = await browser.newPage({ width: 1280, height: 1000 });
    await page.goto(`${base}/`);

    await t.step("a write without the token is refused, and the page asks for it", async () => {
      const refused = await fetch(`${base}/api/redrive`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: base },
        body: JSON.stringify({ scope: "all", dryRun: true }),
      });
      assert.equal(refused.status, 401, await refused.text());
      await page.waitFor(`!document.getElementById("token-form").hidden`, "the token form");
      await page.evaluate(
        `document.getElementById("token-input").value = ${JSON.stringify(TOKEN)};
         document.getElementById("token-submit").click()`,
      );
      await page.waitFor(
        `document.getElementById("connection").dataset.state === "open"`,
        "the live stream to open after signing in",
      );
    });

    let written: { eventIds: string[]; traceparent: string; userId: string };
    await t.step("load moves the rates and the charts", async () => {
      const users = Array.from({ length: 200 }, () => sampleUser());
      let last = { eventIds: [] as string[], traceparent: "" };
      for (let i = 0; i < users.length; i += 10) last = await send(users.slice(i, i + 10));
      written = { ...last, userId: users.at(-1)!.id };
      await page.waitFor(`${shown("rate-accepted")} > 0`, "accepted events per second above 0");
      await page.waitFor(`${shown("rate-rows")} > 0`, "rows written per second above 0");
      await page.waitFor(
        `document.querySelectorAll('[data-testid="chart-rates"] canvas').length > 0`,
        "the rates chart drawn",
      );
      await waitUntil(() => p.caughtUp(), 60_000, "the worker to commit the 200 users");
      await page.waitFor(`${LAG_SECONDS}.length === 3`, "a lag row per partition");
      await screenshot(page, "console-live.png", "connection");
    });

    await t.step(
      "lag in seconds rises while the worker is stopped and falls to 0 after",
      async () => {
        assert.equal((await worker.stop("SIGTERM")).code, 0);
        programs.splice(programs.indexOf(worker), 1);
        await send(Array.from({ length: 30 }, () => sampleUser()));
        await page.waitFor(
          `Math.max(...${LAG_SECONDS}) >= 2`,
          "lag of two seconds or more with the worker stopped",
          60_000,
        );
        worker = await startProgram("worker", p.workerEnv);
        programs.push(worker);
        await page.waitFor(
          `${LAG_SECONDS}.every((s) => s === 0) && ` +
            `[...document.querySelectorAll('[data-testid="lag-records"]')].every((e) => e.textContent.trim() === "0")`,
          "lag back to 0 once the worker runs again",
          90_000,
        );
      },
    );

    await t.step("a write-stage dead letter is re-driven from the page once fixed", async () => {
      const rejected = sampleUser(undefined, { first_name: "Reject Me" });
      await send([rejected]);
      await waitUntil(() => p.caughtUp(), 60_000, "the worker to dead-letter the rejected user");
      await showGroups(page, ["write"]);
      const writeGroup =
        `[...document.querySelectorAll('[data-testid="dlq-group"]')].find((g) => ` +
        `g.querySelector('[data-testid="dlq-group-stage"]')?.textContent.includes("write"))`;
      await page.waitFor(`${writeGroup} !== undefined`, "the write-stage group", 30_000);
      await page.evaluate(`${writeGroup}.querySelector('[data-testid="dlq-group-open"]').click()`);
      await page.waitFor(
        `document.querySelectorAll('[data-testid="dlq-records"] [data-testid="record"]').length === 1`,
        "the group's record",
      );
      await screenshot(page, "console-dead-letters.png", "dlq-groups");

      // Fix the cause, then re-drive the group: a dry run first, then the run.
      await p.sql.unsafe(`ALTER TABLE ${p.schema}.users DROP CONSTRAINT no_rejects`);
      await page.evaluate(
        `${writeGroup}.querySelector('[data-testid="dlq-group-redrive"]').click()`,
      );
      await page.waitFor(
        `/\\b1\\b/.test(document.querySelector('[data-testid="redrive-count"]')?.textContent ?? "")`,
        "the dry run's count of 1",
      );
      await page.click('[data-testid="redrive-go"]');
      await page.waitFor(
        `/Moved 1 /.test(document.querySelector('[data-testid="redrive-result"]')?.textContent ?? "")`,
        "the re-drive's result",
      );
      await waitUntil(
        async () => {
          const rows = await p.sql.unsafe(`select 1 from ${p.schema}.users where id = $1`, [
            rejected.id,
          ]);
          return rows.length === 1;
        },
        60_000,
        "the re-driven user as a row",
      );
      await find(page, "user_id", rejected.id);
      await page.waitFor(
        `[...document.querySelectorAll('[data-testid="find-match"]')].some((m) => m.dataset.path === "written")`,
        "the re-driven event shown as written",
      );
      const redriven = await page.evaluate<string[]>(
        `[...document.querySelectorAll('[data-testid="find-redriven"]')].map((e) => e.dataset.redriven)`,
      );
      assert.ok(
        redriven.length > 0 && redriven.every((r) => r === "yes"),
        `its dead letter shown as re-driven: ${redriven}`,
      );
    });

    await t.step(
      "find shows each path: written, superseded, dead-lettered, not yet written",
      async () => {
        await find(page, "user_id", written.userId);
        assert.deepEqual(await paths(page), ["written"]);
        assert.match(
          await page.evaluate<string>(`document.getElementById("find-progress").textContent`),
          /^(topic|dead letters) \S+: [\d,]+ of at most [\d,]+ records, .* of at most .*; partition \d+ at \d+/,
          "the search's last progress line stays on the page",
        );
        await find(page, "trace_id", written.traceparent.split("-")[1]!);
        assert.ok((await paths(page)).includes("written"), "found by trace id");
        await screenshot(page, "console-find.png", "find-form");

        const user = sampleUser();
        const older = await send([user]);
        const newer = await send([{ ...user, first_name: "Newer" }]);
        await waitUntil(() => p.caughtUp(), 60_000, "both versions committed");
        await find(page, "event_id", older.eventIds[0]!);
        assert.deepEqual(await paths(page), ["superseded"]);
        await find(page, "event_id", newer.eventIds[0]!);
        assert.deepEqual(await paths(page), ["written"]);

        const bad = testEvent(testUser(900_001, "c0ffee01", { email: "not an email" }), new Date());
        await p.kafka.produce(p.topic, [toMessage(bad)]);
        await waitUntil(() => p.caughtUp(), 60_000, "the bad email dead-lettered");
        await find(page, "event_id", bad.event_id);
        assert.deepEqual(await paths(page), ["dead-lettered"]);

        worker.kill("SIGSTOP");
        try {
          const waiting = await send([sampleUser()]);
          await find(page, "event_id", waiting.eventIds[0]!);
          assert.deepEqual(await paths(page), ["waiting"]);
        } finally {
          worker.kill("SIGCONT");
        }
      },
    );

    await t.step("hostile records render inert", async () => {
      const texts = [...HOSTILE_STRINGS, "javascript:alert(2)", "x".repeat(900_000)];
      const hostile = texts.map((text, i) => ({
        key: `<img src=x onerror=alert(${i})>`,
        value: new TextEncoder().encode(text),
        headers: { "x-evil": `<script>alert(${i})</script>` },
      }));
      const broken = INVALID_UTF8.map((bytes) => ({
        key: "bad-utf8",
        value: new Uint8Array(bytes),
      }));
      await p.kafka.produce(p.topic, [...hostile, ...broken]);
      await waitUntil(() => p.caughtUp(), 60_000, "the hostile records dead-lettered");
      await showGroups(page, ["utf8", "json"]);
      const groups = await page.evaluate<number>(
        `document.querySelectorAll('[data-testid="dlq-group-open"]').length`,
      );
      for (let i = 0; i < groups; i++) {
        await page.evaluate(
          `document.querySelectorAll('[data-testid="dlq-group-open"]')[${i}].click()`,
        );
        await page.waitFor(
          `document.querySelectorAll('[data-testid="dlq-records"] [data-testid="record"]').length > 0`,
          `group ${i}'s records`,
        );
      }
      assert.deepEqual(page.events.dialogs, [], "no dialog opened");
      assert.deepEqual(page.events.navigations, [`${base}/`], "no navigation");
      const scripts = await page.evaluate<string[]>(
        `[...document.scripts].map((s) => s.getAttribute("src") ?? "inline")`,
      );
      assert.ok(scripts.every((s) => s.startsWith("/") || s.startsWith("./")), scripts.join());
      assert.equal(
        await page.evaluate(
          `document.querySelectorAll('[href^="javascript:" i], img[onerror]').length`,
        ),
        0,
        "no javascript: link and no image with a handler",
      );
      assert.deepEqual(page.events.errors, [], "no script error on the page");
    });
  } finally {
    await browser?.close();
    for (const program of programs) {
      program.kill("SIGCONT");
      await program.stop("SIGKILL");
    }
    await p.close();
  }
});

/**
 * Refreshes the dead-letter groups until one of each of `stages` shows (the console reads the
 * dead-letter topic at most every 2 s).
 */
async function showGroups(page: Page, stages: string[]): Promise<void> {
  const shown = `[...document.querySelectorAll('[data-testid="dlq-group-stage"]')]` +
    `.map((e) => e.textContent.trim())`;
  await waitUntil(
    async () => {
      const now = await page.evaluate<string[]>(shown);
      if (stages.every((s) => now.includes(s))) return true;
      await page.click('[data-testid="dlq-refresh"]');
      return false;
    },
    60_000,
    `the ${stages.join(" and ")} dead-letter groups`,
    { intervalMs: 1_000 },
  );
}

/** Runs one search from the page's form and waits for its answer. */
async function find(page: Page, by: string, value: string): Promise<void> {
  await page.evaluate(
    `document.getElementById("find-by").value = ${JSON.stringify(by)};
     document.getElementById("find-input").value = ${JSON.stringify(value)};
     document.getElementById("find-results").replaceChildren();
     document.getElementById("find-submit").click()`,
  );
  await page.waitFor(
    `document.querySelectorAll('[data-testid="find-match"]').length > 0`,
    `a match for ${by} ${value}`,
    30_000,
  );
}

/** The paths of the matches shown. */
function paths(page: Page): Promise<string[]> {
  return page.evaluate(
    `[...document.querySelectorAll('[data-testid="find-match"]')].map((m) => m.dataset.path)`,
  );
}

/** Saves a PNG of the window, scrolled to the element `id`, for docs/console.md. */
async function screenshot(page: Page, name: string, id: string): Promise<void> {
  await page.evaluate(`document.getElementById(${JSON.stringify(id)}).scrollIntoView()`);
  await Deno.mkdir(IMAGES, { recursive: true });
  await Deno.writeFile(`${IMAGES}/${name}`, await page.screenshot());
}
