/**
 * Several ingest processes on one port (`INGEST_REUSE_PORT=true`): both bind it, the kernel
 * spreads connections among them, and each keeps serving when the other stops.
 */
import assert from "node:assert/strict";
import { sharedStack } from "../stack/harness.ts";
import { testKafka } from "../testing/kafka.ts";
import { type RunningProgram, startProgram } from "../testing/program.ts";
import { TEST_SECRET } from "../testing/webhook.ts";

/** The count of /healthz answers in one process's /metrics text. */
function healthzAnswers(metrics: string): number {
  const line = metrics.split("\n").find((l) =>
    l.startsWith('ingest_http_requests_total{route="/healthz",method="GET",status="200"}')
  );
  return line ? Number(line.split(" ").pop()) : 0;
}

Deno.test("two ingest processes with INGEST_REUSE_PORT share one port and both answer", async () => {
  const env = await sharedStack();
  const kafka = testKafka(env.KAFKA_BROKERS);
  const topic = await kafka.createTopic("ingest_reuse_port");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const programs: RunningProgram[] = [];
  // A fresh connection per request, so that the kernel picks a process for each.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { client });
    return { status: response.status, text: await response.text() };
  };
  try {
    for (let i = 0; i < 2; i++) {
      programs.push(
        await startProgram("ingest", {
          KAFKA_BROKERS: env.KAFKA_BROKERS,
          KAFKA_TOPIC: topic,
          INGEST_PORT: String(port),
          INGEST_REUSE_PORT: "true",
          // The drain at stop waits a third of this for idle connections.
          INGEST_SHUTDOWN_TIMEOUT_MS: "3000",
          WEBHOOK_SECRET: TEST_SECRET,
          PULL_ENABLED: "false",
        }),
      );
    }
    assert.deepEqual(programs.map((p) => p.port), [port, port], "both listen on the port");
    // Odd, so the two counts differ and scraping can tell the processes apart (with 40, an
    // even split showed one count twice: one run in eight failed).
    const sent = 41;
    for (let i = 0; i < sent; i++) assert.equal((await get("/healthz")).status, 200);
    // Each process counts only the answers it gave: scrape until both counts were seen.
    const seen = new Set<number>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      seen.add(healthzAnswers((await get("/metrics")).text));
    }
    const counts = [...seen].sort((a, b) => a - b);
    assert.equal(counts.length, 2, `two processes answered: counts seen ${counts}`);
    assert.ok(counts[0]! > 0, `both processes answered /healthz: ${counts}`);
    assert.equal(counts[0]! + counts[1]!, sent, `the two counts add up to ${sent}: ${counts}`);
    // One stops; the other still serves the port on its own.
    assert.equal((await programs[0]!.stop()).code, 0);
    for (let i = 0; i < 10; i++) assert.equal((await get("/healthz")).status, 200);
  } finally {
    client.close();
    for (const p of programs) await p.stop();
    await kafka.deleteTopics([topic]);
    await kafka.close();
  }
});

Deno.test("without INGEST_REUSE_PORT a second ingest on a taken port fails to start", async () => {
  const env = await sharedStack();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const second = await startProgram("ingest", {
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      INGEST_PORT: String(listener.addr.port),
      WEBHOOK_SECRET: TEST_SECRET,
      PULL_ENABLED: "false",
    }, { listening: false });
    const status = await second.exited;
    assert.equal(status.code, 1, "it exits with an error");
    assert.ok(
      second.logs.some((l) =>
        l.level === "error" &&
        /^Cannot listen on [^ ]+:\d+: the port is taken by another process; set INGEST_PORT /.test(
          String(l.msg),
        )
      ),
      `it says the port is taken, naming INGEST_PORT: ${JSON.stringify(second.logs.slice(-3))}`,
    );
  } finally {
    listener.close();
  }
});
