/**
 * `ingest/main.ts` as a process, with the `ingest` task's permission flags: it starts on a
 * port of its own choosing, and SIGTERM while requests are in flight loses no event it
 * acknowledged and leaves no request that was sent without an answer.
 */
import assert from "node:assert/strict";
import { type HttpAnswer, HttpConnection } from "../load/http_connection.ts";
import { decodeEvent } from "../shared/event.ts";
import { sharedStack } from "../stack/harness.ts";
import { taskArgs } from "../stack/programs.ts";
import { testKafka } from "../testing/kafka.ts";
import { startProgram } from "../testing/program.ts";
import { sampleUser } from "../testing/users.ts";
import { signedRequest, TEST_SECRET } from "../testing/webhook.ts";
import { ingestConfigSchema } from "./config.ts";

Deno.test("the ingest task's --allow-env lists every variable the ingest reads", () => {
  const flags = taskArgs("ingest");
  const allowEnv = flags.find((f) => f.startsWith("--allow-env="))?.slice(12).split(",") ?? [];
  for (const key of Object.keys(ingestConfigSchema.shape)) {
    assert.ok(allowEnv.includes(key), `--allow-env includes ${key}`);
  }
  assert.ok(!flags.includes("-A") && !flags.includes("--allow-all"));
});

for (const worker of ["false", "true"]) {
  Deno.test(`SIGTERM while requests are in flight loses no acknowledged event and exits 0 (INGEST_PRODUCER_WORKER=${worker})`, async () => {
    const env = await sharedStack();
    const kafka = testKafka(env.KAFKA_BROKERS);
    const topic = await kafka.createTopic("ingest_sigterm");
    const ingest = await startProgram("ingest", {
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
      INGEST_HOST: "127.0.0.1",
      WEBHOOK_SECRET: TEST_SECRET,
      PULL_ENABLED: "false",
      // A longer linger keeps messages queued in the batcher when the signal arrives.
      INGEST_LINGER_MS: "50",
      INGEST_PRODUCER_WORKER: worker,
    });
    try {
      const url = `http://127.0.0.1:${ingest.port}/v1/users`;
      const acknowledged: string[] = [];
      const statuses = new Map<string, number>();
      let signalled = false;
      const sender = async () => {
        // Bounded: each sender stops at its first failure or after 100 requests.
        for (let i = 0; i < 100; i++) {
          const batch = [sampleUser(), sampleUser(), sampleUser()];
          const request = await signedRequest(JSON.stringify(batch));
          let status: string;
          try {
            const response = await fetch(new Request(url, request));
            status = String(response.status);
            const body = await response.json();
            if (response.status === 202) acknowledged.push(...body.event_ids);
          } catch {
            status = "connection closed";
          }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (acknowledged.length >= 150 && !signalled) {
            signalled = true;
            ingest.kill("SIGTERM");
          }
          if (status !== "202") return;
        }
      };
      await Promise.all(Array.from({ length: 20 }, sender));
      assert.ok(signalled, `the test sent SIGTERM (statuses: ${JSON.stringify([...statuses])})`);
      const status = await ingest.exited;
      assert.equal(status.code, 0, JSON.stringify(ingest.logs.slice(-5)));
      assert.equal(ingest.stdout(), "", "nothing on stdout");
      assert.ok(ingest.logs.some((l) => l.msg === "stopped"));
      for (const s of statuses.keys()) {
        assert.ok(["202", "503", "connection closed"].includes(s), `unexpected answer ${s}`);
      }

      const records = await kafka.readTopic(topic);
      const written = new Set(records.map((r) => {
        const d = decodeEvent(r.value);
        assert.ok(d.ok);
        return d.event.event_id;
      }));
      const lost = acknowledged.filter((id) => !written.has(id));
      assert.deepEqual(
        lost,
        [],
        `${lost.length} of ${acknowledged.length} acknowledged events lost`,
      );
    } finally {
      try {
        ingest.kill("SIGKILL");
      } catch { /* exited */ }
      await ingest.exited;
      await kafka.deleteTopics([topic]);
    }
  });
}

/** A signed POST of `n` users as `HttpConnection.send` takes it. */
async function signedBatch(n: number) {
  const request = await signedRequest(
    JSON.stringify(Array.from({ length: n }, () => sampleUser())),
  );
  return {
    headers: Object.fromEntries(request.headers),
    body: new Uint8Array(await request.arrayBuffer()),
  };
}

/** The event ids of a 202 answer. */
function eventIds(body: Uint8Array): string[] {
  return JSON.parse(new TextDecoder().decode(body)).event_ids;
}

/** Every event id in `topic`. */
async function writtenIds(
  kafka: ReturnType<typeof testKafka>,
  topic: string,
): Promise<Set<string>> {
  const records = await kafka.readTopic(topic);
  return new Set(records.map((r) => {
    const d = decodeEvent(r.value);
    assert.ok(d.ok);
    return d.event.event_id;
  }));
}

function ingestEnv(brokers: string, topic: string, worker: string): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC: topic,
    INGEST_HOST: "127.0.0.1",
    WEBHOOK_SECRET: TEST_SECRET,
    PULL_ENABLED: "false",
    INGEST_PRODUCER_WORKER: worker,
    // Bounds every wait of these tests: a process that hangs in its shutdown exits 1 by then.
    INGEST_SHUTDOWN_TIMEOUT_MS: "10000",
  };
}

const CLIENTS = 16;

for (const worker of ["false", "true"]) {
  // The interleaving of the lost requests, built on purpose: each keep-alive connection has
  // its next request fully sent (it waits in the socket), and the ingest has not read it yet
  // when the SIGTERM arrives. SIGSTOP holds the process where a busy or descheduled thread
  // would be; SIGCONT lets it see the signal and the requests together.
  Deno.test(`a request sent before SIGTERM but not yet read gets an answer (INGEST_PRODUCER_WORKER=${worker})`, async () => {
    const env = await sharedStack();
    const kafka = testKafka(env.KAFKA_BROKERS);
    const topic = await kafka.createTopic("ingest_sigterm_unread");
    const ingest = await startProgram("ingest", ingestEnv(env.KAFKA_BROKERS, topic, worker));
    const connections: HttpConnection[] = [];
    try {
      const url = new URL(`http://127.0.0.1:${ingest.port}/v1/users`);
      const acknowledged: string[] = [];
      for (let i = 0; i < CLIENTS; i++) connections.push(await HttpConnection.open(url));
      // Every connection has served a request and is idle, kept alive.
      await Promise.all(connections.map(async (c) => {
        const { headers, body } = await signedBatch(2);
        const answer = await c.post(url.pathname, headers, body);
        assert.equal(answer.status, 202);
        assert.equal(answer.close, false, "a keep-alive answer before the signal");
        acknowledged.push(...eventIds(answer.body));
      }));
      const requests = await Promise.all(connections.map(() => signedBatch(2)));
      ingest.kill("SIGSTOP");
      await Promise.all(
        connections.map((c, i) => c.send(url.pathname, requests[i]!.headers, requests[i]!.body)),
      );
      ingest.kill("SIGTERM");
      ingest.kill("SIGCONT");
      // The process exits within INGEST_SHUTDOWN_TIMEOUT_MS, which ends every read.
      const answers = await Promise.allSettled(connections.map((c) => c.receive()));
      const outcomes = answers.map((a) =>
        a.status === "fulfilled"
          ? `${a.value.status}${a.value.close ? " close" : ""}`
          : `no answer (${(a.reason as Error).message})`
      );
      for (const a of answers) {
        if (a.status === "fulfilled" && a.value.status === 202) {
          acknowledged.push(...eventIds(a.value.body));
        }
      }
      assert.deepEqual(
        outcomes.filter((o) => o !== "202 close" && o !== "503 close"),
        [],
        `every request sent before SIGTERM is answered 202 or 503 with Connection: close (${
          JSON.stringify(outcomes)
        })`,
      );
      const status = await ingest.exited;
      assert.equal(status.code, 0, JSON.stringify(ingest.logs.slice(-5)));
      assert.ok(ingest.logs.some((l) => l.msg === "stopped"));
      assert.ok(
        ingest.logs.some((l) => l.msg === "connections drained" && l.owed === 0),
        "every connection had its last answer before the server closed",
      );
      const written = await writtenIds(kafka, topic);
      const lost = acknowledged.filter((id) => !written.has(id));
      assert.deepEqual(
        lost,
        [],
        `${lost.length} of ${acknowledged.length} acknowledged events lost`,
      );
    } finally {
      for (const c of connections) c.close();
      try {
        ingest.kill("SIGKILL");
      } catch { /* exited */ }
      await ingest.exited;
      await kafka.deleteTopics([topic]);
    }
  });

  // The same race as it happens: 16 keep-alive clients each send their next request as soon
  // as the previous one is answered, and SIGTERM lands mid-stream. Three cycles, for the runs
  // where the ingest happens to have read every waiting request before the signal.
  Deno.test(`SIGTERM mid-stream answers every request sent on a keep-alive connection (INGEST_PRODUCER_WORKER=${worker})`, async () => {
    const env = await sharedStack();
    const kafka = testKafka(env.KAFKA_BROKERS);
    const topic = await kafka.createTopic("ingest_sigterm_stream");
    const acknowledged: string[] = [];
    try {
      for (let cycle = 0; cycle < 3; cycle++) {
        const ingest = await startProgram("ingest", ingestEnv(env.KAFKA_BROKERS, topic, worker));
        const connections: HttpConnection[] = [];
        try {
          const url = new URL(`http://127.0.0.1:${ingest.port}/v1/users`);
          for (let i = 0; i < CLIENTS; i++) connections.push(await HttpConnection.open(url));
          const outcomes = new Map<string, number>();
          const note = (o: string) => outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
          let answered = 0;
          let signalled = false;
          // Bounded: each client stops at its first answer that is not a kept-alive 202, or
          // after 200 requests; the ingest exits within INGEST_SHUTDOWN_TIMEOUT_MS.
          const client = async (c: HttpConnection) => {
            for (let i = 0; i < 200; i++) {
              const { headers, body } = await signedBatch(1);
              try {
                await c.send(url.pathname, headers, body);
              } catch {
                return note("closed before the request was sent");
              }
              let answer: HttpAnswer;
              try {
                answer = await c.receive();
              } catch (err) {
                return note(`sent, no answer (${(err as Error).message})`);
              }
              if (answer.status === 202) acknowledged.push(...eventIds(answer.body));
              if (++answered === 20 * CLIENTS && !signalled) {
                signalled = true;
                ingest.kill("SIGTERM");
              }
              if (answer.status !== 202 || answer.close) {
                return note(`${answer.status}${answer.close ? " close" : ""}`);
              }
            }
            note("ran out of requests");
          };
          await Promise.all(connections.map(client));
          assert.ok(signalled, `cycle ${cycle}: the test sent SIGTERM`);
          for (const o of outcomes.keys()) {
            assert.ok(
              ["202 close", "503 close", "closed before the request was sent"].includes(o),
              `cycle ${cycle}: every request sent is answered (${JSON.stringify([...outcomes])})`,
            );
          }
          const status = await ingest.exited;
          assert.equal(status.code, 0, JSON.stringify(ingest.logs.slice(-5)));
          assert.ok(
            ingest.logs.some((l) => l.msg === "connections drained" && l.owed === 0),
            `cycle ${cycle}: every connection had its last answer before the server closed`,
          );
        } finally {
          for (const c of connections) c.close();
          try {
            ingest.kill("SIGKILL");
          } catch { /* exited */ }
          await ingest.exited;
        }
      }
      const written = await writtenIds(kafka, topic);
      const lost = acknowledged.filter((id) => !written.has(id));
      assert.deepEqual(
        lost,
        [],
        `${lost.length} of ${acknowledged.length} acknowledged events lost`,
      );
    } finally {
      await kafka.deleteTopics([topic]);
    }
  });
}

Deno.test("a bad configuration stops the start with exit 2 and a line naming the variable", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ KAFKA_BROKERS: "nohost", INGEST_ALLOW_UNSIGNED: "true" }, /Cannot parse KAFKA_BROKERS/],
    [{ KAFKA_BROKERS: "127.0.0.1:9", WEBHOOK_SECRET: "plain" }, /Cannot parse WEBHOOK_SECRET/],
    [
      { KAFKA_BROKERS: "127.0.0.1:9", INGEST_ALLOW_UNSIGNED: "true", PULL_SCHEDULE: "61 * * * *" },
      /Cannot parse PULL_SCHEDULE/,
    ],
    [
      { KAFKA_BROKERS: "127.0.0.1:9", INGEST_ALLOW_UNSIGNED: "true", INGEST_HOST: "256.1.1.1" },
      /Cannot parse INGEST_HOST/,
    ],
    [
      { KAFKA_BROKERS: "127.0.0.1:9", INGEST_ALLOW_UNSIGNED: "true", INGEST_HOST: " " },
      /Cannot parse INGEST_HOST/,
    ],
  ];
  for (const [env, expected] of cases) {
    await assert.rejects(startProgram("ingest", env, { timeoutMs: 30_000 }), (err: Error) => {
      assert.match(err.message, /ingest exited \(code 2\) before listening/);
      assert.match(err.message, expected);
      return true;
    });
  }
});

Deno.test("a taken INGEST_PORT ends the ingest with exit 1 and one line naming INGEST_PORT, no stack trace", async () => {
  const env = await sharedStack();
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  const ingest = await startProgram("ingest", {
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    INGEST_ALLOW_UNSIGNED: "true",
    PULL_ENABLED: "false",
    INGEST_PORT: String(port),
  }, { listening: false });
  const status = await ingest.exited;
  assert.equal(status.code, 1, JSON.stringify(ingest.logs));
  assert.deepEqual(
    ingest.logs.filter((l) => l.level !== "info" && l.level !== "debug").map((l) => l.msg),
    [
      `Cannot listen on 127.0.0.1:${port}: the port is taken by another process; set ` +
      "INGEST_PORT to a free port (0 picks one)",
    ],
  );
});
