/**
 * One client cannot take the ingest down: with its open-file limit lowered to 256, more idle
 * and half-sent connections than the limit neither crash it nor lock signed senders out, and
 * every event it acknowledged is on the topic.
 */
import assert from "node:assert/strict";
import { HttpConnection } from "../load/http_connection.ts";
import { decodeEvent } from "../shared/event.ts";
import { sharedStack } from "../stack/harness.ts";
import { testKafka } from "../testing/kafka.ts";
import { startProgram } from "../testing/program.ts";
import { sampleUser } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";
import { signedRequest, TEST_SECRET } from "../testing/webhook.ts";

const OPEN_FILES = 256;
/** More connections than the ingest may hold, and more than its file table. */
const FLOOD = 400;
const SIGNED_REQUESTS = 40;
const CASES = [
  // Below the file limit, with room for Kafka's and the runtime's own files: the limit holds.
  { maxConnections: 128, what: "INGEST_MAX_CONNECTIONS below the file limit" },
  // Set above it by mistake: accepts fail with "Too many open files" and the loop goes on.
  { maxConnections: 1000, what: "INGEST_MAX_CONNECTIONS above the file limit" },
];

for (const { maxConnections: MAX_CONNECTIONS, what } of CASES) {
  Deno.test(`more idle and half-sent connections than the open-file limit do not crash the ingest or refuse signed senders (${what})`, async () => {
    const env = await sharedStack();
    const kafka = testKafka(env.KAFKA_BROKERS);
    const topic = await kafka.createTopic("ingest_flood");
    const ingest = await startProgram("ingest", {
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      WEBHOOK_SECRET: TEST_SECRET,
      PULL_ENABLED: "false",
      INGEST_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    }, { openFiles: OPEN_FILES });
    const flood: Deno.Conn[] = [];
    try {
      // Every other connection sends half a request head and stops; the rest send nothing.
      let closedByServer = 0;
      const half = new TextEncoder().encode("POST /v1/users HTTP/1.1\r\nhost: x\r\ncontent-le");
      for (let i = 0; i < FLOOD; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: ingest.port });
        flood.push(conn);
        if (i % 2 === 1) await conn.write(half);
        conn.read(new Uint8Array(16)).then(() => closedByServer++, () => closedByServer++);
      }
      if (MAX_CONNECTIONS < OPEN_FILES) {
        await waitUntil(
          () => closedByServer >= FLOOD - MAX_CONNECTIONS,
          60_000,
          `the ingest closing all but ${MAX_CONNECTIONS} of ${FLOOD} idle connections`,
        );
      } else {
        await ingest.waitForLog(
          (l) => l.msg?.startsWith("accepting a connection failed") === true,
          60_000,
          "a failed accept at the full file table",
        );
      }

      // Signed senders, each on a new connection, are answered while the flood holds its share.
      const acknowledged: string[] = [];
      for (let i = 0; i < SIGNED_REQUESTS; i++) {
        const request = await signedRequest(JSON.stringify(sampleUser()));
        const c = await HttpConnection.open(new URL(`http://127.0.0.1:${ingest.port}`));
        try {
          const answer = await c.post(
            "/v1/users",
            Object.fromEntries(request.headers),
            new Uint8Array(await request.arrayBuffer()),
          );
          const text = new TextDecoder().decode(answer.body);
          assert.equal(answer.status, 202, `request ${i}: ${text}`);
          acknowledged.push(...JSON.parse(text).event_ids);
        } finally {
          c.close();
        }
      }
      assert.equal(acknowledged.length, SIGNED_REQUESTS);

      const written = new Set<string>();
      await waitUntil(
        async () => {
          for (const r of await kafka.readTopic(topic)) {
            const d = decodeEvent(r.value);
            if (d.ok) written.add(d.event.event_id);
          }
          return acknowledged.every((id) => written.has(id));
        },
        30_000,
        "every acknowledged event on the topic",
      );

      const crash = ingest.logs.find((l) => l.msg === "(raw)" || l.level === "error");
      assert.equal(crash, undefined, `no error or raw output: ${JSON.stringify(crash)}`);
      for (const c of flood) c.close();
      flood.length = 0;
      const status = await ingest.stop();
      assert.equal(status.code, 0, "a clean shutdown after the flood");
    } finally {
      for (const c of flood) c.close();
      ingest.kill("SIGKILL");
      await ingest.exited;
      await kafka.deleteTopics([topic]);
    }
  });
}
