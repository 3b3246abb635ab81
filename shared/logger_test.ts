import assert from "node:assert/strict";
import { createLogger, errorFields, redactUrl } from "./logger.ts";

function capture(level: "debug" | "info" = "info") {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level, write: (l) => lines.push(JSON.parse(l)), now: () => 0 });
  return { log, lines };
}

Deno.test("logger writes one JSON object per entry with child bindings", () => {
  const { log, lines } = capture();
  log.child({ component: "ingest" }).info("listening", { port: 8080 });
  assert.deepEqual(lines, [{
    time: "1970-01-01T00:00:00.000Z",
    level: "info",
    msg: "listening",
    component: "ingest",
    port: 8080,
  }]);
});

Deno.test("logger drops entries below its level", () => {
  const { log, lines } = capture("info");
  log.debug("noise");
  log.warn("kept");
  assert.deepEqual(lines.map((l) => l.msg), ["kept"]);
});

Deno.test("logger redacts secret-looking fields and URL passwords, at any depth", () => {
  const { log, lines } = capture();
  log.info("config", {
    WEBHOOK_SECRET: "whsec_abc",
    nested: { password: "p", url: "postgres://admin:hunter2@db:5432/x" },
  });
  const text = JSON.stringify(lines[0]);
  assert.ok(!text.includes("whsec_abc") && !text.includes("hunter2"), text);
  assert.match(text, /postgres:\/\/admin:\[redacted\]@db:5432/);
});

Deno.test("errorFields() keeps the cause chain and masks credentials", () => {
  const err = new Error("connect failed", {
    cause: new Error("postgres://u:pw@h/db refused"),
  });
  assert.deepEqual(errorFields(err), {
    error: "connect failed",
    errorName: "Error",
    cause: { error: "postgres://u:[redacted]@h/db refused", errorName: "Error" },
  });
  assert.equal(redactUrl("no url here"), "no url here");
});
