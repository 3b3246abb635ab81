/**
 * Integration: a private stack with network paths. Each path reaches every broker and
 * PostgreSQL through Toxiproxy proxies of its own; the brokers advertise the proxies, so a
 * client bootstrapped through a path stays on it; a blackhole on one path leaves the others
 * alone and heals.
 */
import assert from "node:assert/strict";
import { Admin } from "@platformatic/kafka";
import postgres from "postgres";
import { clientOptions } from "../shared/kafka/client_options.ts";
import { testKafka } from "../testing/kafka.ts";
import { privateStack, uniqueName } from "./harness.ts";

Deno.test("network paths: clients stay on their path's proxies, and a blackhole on one path leaves the other working", async () => {
  const stack = await privateStack({ prefix: "net", brokers: 1, paths: ["a", "b"] });
  const net = stack.network!;
  const pools: postgres.Sql[] = [];
  try {
    const a = net.env("a");
    const proxyPort = stack.state.kafka[0]!.paths!.a!.proxyPort;
    assert.equal(a.KAFKA_BROKERS, `127.0.0.1:${proxyPort}`);

    // The metadata a path's client receives names the path's proxy, not the broker's port.
    const kafka = testKafka(a.KAFKA_BROKERS);
    const admin = new Admin(clientOptions(kafka.connection, "-net"));
    try {
      const meta = await admin.metadata({ topics: [], forceUpdate: true });
      assert.deepEqual([...meta.brokers.values()].map((b) => b.port), [proxyPort]);
    } finally {
      await admin.close();
    }
    const topic = uniqueName("net");
    await kafka.createTopics([topic], 2);
    const bytes = new TextEncoder();
    await kafka.produce(topic, [{ key: bytes.encode("k"), value: bytes.encode("v") }]);
    assert.equal((await kafka.readTopic(topic, { expected: 1 })).length, 1);
    await kafka.deleteTopics([topic]);
    await kafka.close();

    // PostgreSQL through path a goes silent under a blackhole; path b still answers.
    const viaA = postgres(a.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
    const viaB = postgres(net.env("b").WAREHOUSE_URL, { max: 1, onnotice: () => {} });
    pools.push(viaA, viaB);
    assert.equal((await viaA`select 1 as n`)[0]!.n, 1);
    await net.blackhole({ path: "a", to: "postgres" });
    const hung = viaA`select 2 as n`.then(() => "answered", () => "failed");
    const silence = new Promise<string>((r) => setTimeout(() => r("silent"), 2_000));
    assert.equal(
      await Promise.race([hung, silence]),
      "silent",
      "a blackholed path answers nothing",
    );
    assert.equal((await viaB`select 3 as n`)[0]!.n, 3, "the other path is untouched");

    // Healing lets new connections through (the bytes already dropped are gone for good).
    await net.heal({ path: "a", to: "postgres" });
    const fresh = postgres(a.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
    pools.push(fresh);
    assert.equal((await fresh`select 4 as n`)[0]!.n, 4);
  } finally {
    await Promise.all(pools.map((p) => p.end({ timeout: 0 })));
    await stack.stop();
  }
});
