import assert from "node:assert/strict";
import { createIngestApp } from "../ingest/http/app.ts";
import { decodeEvent } from "../shared/event.ts";
import { FakeProducer } from "../testing/fakes.ts";
import { testConfig } from "../testing/test_config.ts";
import { TEST_SECRET } from "../testing/webhook.ts";
import { runLoad } from "./run_load.ts";

Deno.test("runLoad() sends signed users that the ingest accepts, single and in batches", async () => {
  const producer = new FakeProducer();
  const app = createIngestApp(testConfig(), { producer });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.handler);
  try {
    const url = `http://127.0.0.1:${server.addr.port}/v1/users`;
    const base = { url, secret: TEST_SECRET, rate: 0, durationSeconds: 30, concurrency: 4 };
    const single = await runLoad({ ...base, count: 20, batch: 1 });
    assert.deepEqual(single.statuses, { "202": 20 });
    assert.equal(single.accepted, 20);
    const batched = await runLoad({ ...base, count: 50, batch: 10, ndjson: true });
    assert.deepEqual(batched.statuses, { "202": 5 });
    assert.equal(producer.messages.length, 70);
    assert.equal(new Set(producer.messages.map((m) => m.key)).size, 70, "distinct user ids");
    assert.ok(single.latencyMs.p50 <= single.latencyMs.p99);
  } finally {
    await server.shutdown();
    await app.close();
  }
});

Deno.test("runLoad() also works through fetch (https URLs, or when fetch is given)", async () => {
  const producer = new FakeProducer();
  const app = createIngestApp(testConfig(), { producer });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.handler);
  try {
    const url = `http://127.0.0.1:${server.addr.port}/v1/users`;
    const summary = await runLoad(
      {
        url,
        secret: TEST_SECRET,
        count: 10,
        batch: 2,
        rate: 0,
        durationSeconds: 30,
        concurrency: 2,
      },
      { fetch },
    );
    assert.deepEqual(summary.statuses, { "202": 5 });
    assert.equal(producer.messages.length, 10);
  } finally {
    await server.shutdown();
    await app.close();
  }
});

Deno.test("runLoad() counts refused requests by status", async () => {
  const producer = new FakeProducer();
  const app = createIngestApp(testConfig(), { producer });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.handler);
  try {
    const url = `http://127.0.0.1:${server.addr.port}/v1/users`;
    const summary = await runLoad({
      url,
      count: 3,
      batch: 1,
      rate: 0,
      durationSeconds: 30,
      concurrency: 1,
    });
    assert.deepEqual(summary.statuses, { "401": 3 }, "unsigned requests are refused");
    assert.equal(summary.accepted, 0);
  } finally {
    await server.shutdown();
    await app.close();
  }
});

Deno.test("runLoad() sends users of the newest schema version unless told another", async () => {
  const producer = new FakeProducer();
  const app = createIngestApp(testConfig(), { producer });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.handler);
  let seen = 0;
  /** The versions of the messages produced since the last call. */
  const versions = () => {
    const fresh = producer.messages.slice(seen);
    seen += fresh.length;
    return new Set(fresh.map((m) => {
      const d = decodeEvent(m.value);
      assert.ok(d.ok);
      return d.event.schema_version;
    }));
  };
  try {
    const url = `http://127.0.0.1:${server.addr.port}/v1/users`;
    const base = { url, secret: TEST_SECRET, rate: 0, durationSeconds: 30, concurrency: 2 };
    assert.equal((await runLoad({ ...base, count: 40, batch: 4 })).accepted, 40);
    assert.deepEqual(versions(), new Set([2]));
    assert.equal((await runLoad({ ...base, count: 40, batch: 1, schemaVersion: 1 })).accepted, 40);
    assert.deepEqual(versions(), new Set([1]));
  } finally {
    await server.shutdown();
    await app.close();
  }
});
