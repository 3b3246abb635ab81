import assert from "node:assert/strict";
import { KafkaSetupError } from "../shared/kafka/kafka_error.ts";
import { createKafkaProducer } from "../shared/kafka/producer.ts";
import { kafkaConnection, type KafkaConnectionConfig } from "../shared/kafka/settings.ts";
import { silentLogger } from "../shared/logger.ts";
import { testKafka } from "../testing/kafka.ts";
import { listTopicsWithJava, securedStack } from "./harness.ts";
import { downStack, STACK_TOPICS, stackDir, stackStatus, upStack } from "./stack.ts";

const TOPICS = STACK_TOPICS.map((t) => t.topic).sort();
const AUTH_FAILED = "SaslAuthenticationException: Authentication failed during authentication " +
  "due to invalid credentials with SASL mechanism SCRAM-SHA-512";

Deno.test("stack up --secure serves SASL_SSL with SCRAM-SHA-512 beside plaintext", async (t) => {
  const stack = await securedStack();
  const dir = stackDir(stack.name);
  try {
    await t.step("secure.env has the client settings of the SASL_SSL ports", async () => {
      const ports = stack.state.kafka.map((n) => n.securePort);
      assert.ok(ports.every((p) => typeof p === "number"), "every node has a SASL_SSL port");
      assert.deepEqual(Object.keys(stack.secure), [
        "KAFKA_BROKERS",
        "KAFKA_SSL",
        "KAFKA_SSL_CA_FILE",
        "KAFKA_SASL_MECHANISM",
        "KAFKA_SASL_USERNAME",
        "KAFKA_SASL_PASSWORD",
      ]);
      assert.equal(stack.secure.KAFKA_BROKERS, ports.map((p) => `127.0.0.1:${p}`).join(","));
      assert.equal(stack.secure.KAFKA_SSL, "true");
      assert.equal(stack.secure.KAFKA_SSL_CA_FILE, `${dir}/tls/ca.pem`);
      assert.equal(stack.secure.KAFKA_SASL_MECHANISM, "scram-sha-512");
      assert.equal(stack.secure.KAFKA_SASL_USERNAME, "pipeline");
      assert.match(stack.secure.KAFKA_SASL_PASSWORD ?? "", /^[0-9a-f]{40}$/);
      assert.equal(
        await Deno.readTextFile(`${dir}/stack.env`),
        `KAFKA_BROKERS=${stack.plain.KAFKA_BROKERS}\nWAREHOUSE_URL=${stack.plain.WAREHOUSE_URL}\n`,
        "stack.env is the plaintext one, as before",
      );
      for (const file of ["secure.env", "secrets.json", "tls/broker.p12", "tls/ca.p12"]) {
        assert.equal((await Deno.stat(`${dir}/${file}`)).mode! & 0o777, 0o600, file);
      }
    });

    await t.step("a Java client lists the topics over SASL_SSL", async () => {
      const result = await listTopicsWithJava(stack.secure);
      assert.equal(result.code, 0, result.output);
      assert.deepEqual(result.topics, TOPICS);
    });

    await t.step("a Java client with a wrong password fails authentication", async () => {
      const result = await listTopicsWithJava(stack.secure, { password: "wrong-password" });
      assert.equal(result.code, 1, result.output);
      assert.ok(result.output.includes(AUTH_FAILED), result.output);
    });

    await t.step("a Java client that trusts another CA refuses the broker", async () => {
      const result = await listTopicsWithJava(stack.secure, { caFile: stack.otherCaFile });
      assert.equal(result.code, 1, result.output);
      assert.match(result.output, /SslAuthenticationException: SSL handshake failed/);
      assert.match(result.output, /PKIX path building failed/);
    });

    const settings: KafkaConnectionConfig = {
      KAFKA_BROKERS: stack.secure.KAFKA_BROKERS!.split(","),
      KAFKA_SSL: true,
      KAFKA_SSL_CA_FILE: stack.secure.KAFKA_SSL_CA_FILE,
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: stack.secure.KAFKA_SASL_USERNAME,
      KAFKA_SASL_PASSWORD: stack.secure.KAFKA_SASL_PASSWORD,
    };

    await t.step("the project's Kafka layer produces and reads back over SASL_SSL", async () => {
      const kafka = testKafka(await kafkaConnection(settings, "secure-test"));
      try {
        assert.deepEqual(await kafka.listTopicsSorted(), TOPICS);
        await kafka.createTopics(["secure_roundtrip"], 2);
        await kafka.produce("secure_roundtrip", [{ key: "k", value: new Uint8Array([1, 2]) }]);
        const [record] = await kafka.readTopic("secure_roundtrip");
        assert.deepEqual(record?.value, new Uint8Array([1, 2]));
        await kafka.admin.deleteTopics(["secure_roundtrip"]);
      } finally {
        await kafka.close();
      }
    });

    // Each refusal must end in an error naming the setting to fix, within the connect timeout.
    const refusal = async (config: KafkaConnectionConfig, names: RegExp) => {
      const producer = createKafkaProducer(await kafkaConnection(config, "secure-test"), {
        logger: silentLogger,
      });
      try {
        await assert.rejects(
          producer.connect(["user_created"]),
          (err) => err instanceof KafkaSetupError && names.test(err.message),
        );
      } finally {
        await producer.close();
      }
    };
    await t.step("a wrong password ends in an error naming the SASL settings", async () => {
      await refusal(
        { ...settings, KAFKA_SASL_PASSWORD: "wrong-password" },
        /refused the SASL login: check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/,
      );
    });
    await t.step("an unknown CA ends in an error naming KAFKA_SSL_CA_FILE", async () => {
      await refusal(
        { ...settings, KAFKA_SSL_CA_FILE: stack.otherCaFile },
        /not signed by a CA we trust: set KAFKA_SSL_CA_FILE .*holds another CA/,
      );
    });
    await t.step("TLS to the plaintext port ends in an error naming KAFKA_SSL", async () => {
      await refusal(
        { ...settings, KAFKA_BROKERS: stack.plain.KAFKA_BROKERS.split(",") },
        /does not speak TLS \(a plaintext port\?\), but KAFKA_SSL=true/,
      );
    });
    await t.step("plaintext to the TLS port ends in an error naming KAFKA_SSL", async () => {
      await refusal(
        { ...settings, KAFKA_SSL: false, KAFKA_SSL_CA_FILE: undefined },
        /speaks TLS: set KAFKA_SSL=true/,
      );
    });

    await t.step(
      "status shows the SASL_SSL ports and where the settings are, no password",
      async () => {
        const text = (await stackStatus(stack.name)).join("\n");
        for (const n of stack.state.kafka) {
          assert.match(text, new RegExp(`sasl_ssl_port=${n.securePort}`));
        }
        assert.ok(text.includes(`${dir}/secure.env`), text);
        assert.ok(!text.includes(stack.secure.KAFKA_SASL_PASSWORD!), "no password in the status");
      },
    );

    await t.step("a stopped secured stack comes back the same way, certificates kept", async () => {
      const before = await Deno.readFile(`${dir}/tls/ca.pem`);
      await downStack(stack.name);
      const state = await upStack({ name: stack.name });
      assert.equal(state.secure, true);
      assert.deepEqual(
        state.kafka.map((n) => n.securePort),
        stack.state.kafka.map((n) => n.securePort),
      );
      assert.deepEqual(await Deno.readFile(`${dir}/tls/ca.pem`), before, "same CA");
      const result = await listTopicsWithJava(stack.secure);
      assert.equal(result.code, 0, result.output);
    });
  } finally {
    await stack.stop();
  }
});

Deno.test("stack up --secure --brokers 3 serves SASL_SSL on every node", async () => {
  const stack = await securedStack(undefined, { brokers: 3 });
  try {
    assert.equal(stack.state.kafka.length, 3);
    for (const n of stack.state.kafka) {
      // Bootstrapping from this node alone: it must authenticate the client itself.
      const env = { ...stack.secure, KAFKA_BROKERS: `127.0.0.1:${n.securePort}` };
      const ok = await listTopicsWithJava(env);
      assert.equal(ok.code, 0, `node ${n.nodeId}: ${ok.output}`);
      assert.deepEqual(ok.topics, TOPICS);
      const refused = await listTopicsWithJava(env, { password: "wrong-password" });
      assert.ok(refused.output.includes(AUTH_FAILED), `node ${n.nodeId}: ${refused.output}`);
    }
  } finally {
    await stack.stop();
  }
});
