import assert from "node:assert/strict";
import { silentListener } from "../../testing/silent_listener.ts";
import { silentLogger } from "../logger.ts";
import { awaitFirstAnswer } from "./first_answer.ts";
import { KafkaSetupError } from "./kafka_error.ts";
import { createKafkaProducer } from "./producer.ts";
import type { KafkaConnection } from "./settings.ts";

const connection = (brokers: string[], tls = false): KafkaConnection => ({
  clientId: "first-answer-test",
  brokers,
  ...(tls ? { tls: {} } : {}),
  summary: `KAFKA_BROKERS=${brokers.join(",")}`,
});
const never = () => new Promise<never>(() => {});

Deno.test("awaitFirstAnswer() passes on an answer, or a failure, that comes in time", async () => {
  const plain = connection(["127.0.0.1:9"]);
  assert.equal(await awaitFirstAnswer(Promise.resolve(42), plain, 60_000), 42);
  const failure = new Error("refused");
  await assert.rejects(awaitFirstAnswer(Promise.reject(failure), plain, 60_000), (err) => {
    assert.equal(err, failure, "the same error, for the caller to diagnose");
    return true;
  });
});

Deno.test("awaitFirstAnswer() names KAFKA_BROKERS and the brokers that accept but stay silent", async () => {
  const accepts = (address: string) =>
    Promise.resolve(
      address === "b:2" ? { accepted: true as const } : { accepted: false as const, reason: "x" },
    );
  await assert.rejects(
    awaitFirstAnswer(never(), connection(["a:1", "b:2"]), 10, accepts),
    (err) => {
      assert.ok(err instanceof KafkaSetupError);
      assert.equal(
        err.message,
        "Kafka at b:2 accepted the connection but did not answer within 0.01 s: " +
          "check KAFKA_BROKERS (is it a Kafka listener?)",
      );
      return true;
    },
  );
  await assert.rejects(
    awaitFirstAnswer(never(), connection(["b:2"], true), 2_500, accepts),
    /^KafkaSetupError: Kafka at b:2 accepted the connection but did not answer within 2\.5 s: check KAFKA_BROKERS \(is it a Kafka listener that speaks TLS\?\)$/,
  );
});

Deno.test("awaitFirstAnswer() says why when no broker accepts a connection", async () => {
  const unreachable = (address: string) =>
    Promise.resolve({ accepted: false as const, reason: `${address}: no connection within 2 s` });
  await assert.rejects(
    awaitFirstAnswer(never(), connection(["a:1", "b:2"]), 10, unreachable),
    (err) => {
      assert.ok(err instanceof KafkaSetupError);
      assert.equal(
        err.message,
        "Kafka did not answer within 0.01 s, and no broker in KAFKA_BROKERS=a:1,b:2 accepts a " +
          "connection now (a:1: no connection within 2 s; b:2: no connection within 2 s): " +
          "check KAFKA_BROKERS (a wrong host, or a firewall that drops the packets?)",
      );
      return true;
    },
  );
});

Deno.test("a producer's connect() ends after startTimeoutMs on a broker that accepts and never answers, and closes cleanly", async () => {
  await using silent = silentListener();
  const producer = createKafkaProducer(connection([silent.address]), {
    logger: silentLogger,
    startTimeoutMs: 1_000,
  });
  try {
    await assert.rejects(producer.connect(["user_created"]), (err) => {
      assert.ok(err instanceof KafkaSetupError);
      assert.equal(
        err.message,
        `Kafka at ${silent.address} accepted the connection but did not answer within 1 s: ` +
          "check KAFKA_BROKERS (is it a Kafka listener?)",
      );
      return true;
    });
    assert.match(producer.lastProblem() ?? "", /check KAFKA_BROKERS/);
    assert.ok(silent.accepted() > 0, "the client connected");
  } finally {
    await producer.close();
  }
});
