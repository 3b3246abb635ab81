/**
 * The plumbing of `KAFKA_SASL_MECHANISM=aws-msk-iam` against a real broker: the secured stack's
 * SASL_SSL listener also takes OAUTHBEARER, checked by Kafka's own unsecured validator, with
 * sessions of a few seconds. An unsecured JWT stands in for MSK's token (which only MSK can
 * check) to prove the handshake and re-authentication; MSK's real token, which that validator
 * refuses, proves what a refused token ends in, for our clients and the real programs.
 */
import assert from "node:assert/strict";
import { securedStack } from "../../stack/harness.ts";
import { OAUTHBEARER_REAUTH_MS } from "../../stack/sasl_ssl.ts";
import { testKafka } from "../../testing/kafka.ts";
import { failedStart, startProgram } from "../../testing/program.ts";
import { unsecuredJwt } from "../../testing/unsecured_jwt.ts";
import { waitUntil } from "../../testing/wait.ts";
import { TEST_SECRET } from "../../testing/webhook.ts";
import { silentLogger } from "../logger.ts";
import { createConsumerGroup } from "./consumer_group.ts";
import { diagnoseKafkaError } from "./kafka_error.ts";
import { createKafkaProducer } from "./producer.ts";
import { kafkaConnection } from "./settings.ts";

/** The `aws-msk-iam` settings of the secured stack's listener, with made-up static keys. */
function iamEnv(secure: Record<string, string>): Record<string, string> {
  return {
    KAFKA_BROKERS: secure.KAFKA_BROKERS!,
    KAFKA_SSL: "true",
    KAFKA_SSL_CA_FILE: secure.KAFKA_SSL_CA_FILE!,
    KAFKA_SASL_MECHANISM: "aws-msk-iam",
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

Deno.test("aws-msk-iam over OAUTHBEARER: the handshake, re-authentication on the broker's session lifetime, and a refused token", async (t) => {
  const stack = await securedStack();
  const admin = testKafka(stack.plain.KAFKA_BROKERS);
  try {
    const env = iamEnv(stack.secure);
    const connection = await kafkaConnection({
      KAFKA_BROKERS: env.KAFKA_BROKERS!.split(","),
      KAFKA_SSL: true,
      KAFKA_SSL_CA_FILE: env.KAFKA_SSL_CA_FILE,
      KAFKA_SASL_MECHANISM: "aws-msk-iam",
      AWS_REGION: env.AWS_REGION,
      AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
    }, "oauth-test");
    const topic = `oauth_${crypto.randomUUID().slice(0, 8)}`;
    await admin.createTopics([topic], 1);

    await t.step(
      "records go through with a token the broker accepts, and each session is authenticated again",
      async () => {
        let tokens = 0;
        const token = () => {
          tokens++;
          return Promise.resolve(unsecuredJwt("pipeline"));
        };
        const producer = createKafkaProducer(connection, {
          logger: silentLogger,
          oauthBearerToken: token,
        });
        const received: string[] = [];
        const group = createConsumerGroup(connection, {
          groupId: `oauth_${crypto.randomUUID().slice(0, 8)}`,
          topics: [topic],
          sessionTimeoutMs: 10_000,
          oauthBearerToken: token,
        });
        try {
          await producer.connect([topic]);
          await producer.send(topic, [{ key: "k", value: new TextEncoder().encode("first") }]);
          await group.start({
            record: (r) => received.push(new TextDecoder().decode(r.value!)),
            error: (err) => assert.fail(err),
          });
          await waitUntil(() => received.length === 1, 30_000, "the first record");
          // The broker ends a session after OAUTHBEARER_REAUTH_MS unless the client authenticates
          // again (at 80 % of it): new tokens, and the same connections go on working.
          const before = tokens;
          await waitUntil(
            () => tokens >= before + 2,
            OAUTHBEARER_REAUTH_MS * 4,
            "re-authentications",
          );
          await producer.send(topic, [{ key: "k", value: new TextEncoder().encode("second") }]);
          await waitUntil(() => received.length === 2, 30_000, "the second record");
          assert.deepEqual(received, ["first", "second"]);
        } finally {
          await group.close();
          await producer.close();
        }
      },
    );

    await t.step(
      "a refused token ends the connect with a sentence naming the mechanism and the region",
      async () => {
        const producer = createKafkaProducer(connection, {
          logger: silentLogger,
          startTimeoutMs: 15_000,
          oauthBearerToken: () => Promise.resolve(unsecuredJwt("pipeline", { lifetimeS: -60 })),
        });
        try {
          const err = await producer.connect([topic]).then(() => undefined, (e) => e);
          assert.ok(err, "an expired token is refused");
          assert.match(
            await diagnoseKafkaError(err, connection),
            /^Kafka refused the MSK IAM token \(KAFKA_SASL_MECHANISM=aws-msk-iam\): check that AWS_REGION=eu-west-1 is the cluster's region/,
          );
        } finally {
          await producer.close().catch(() => {});
        }
      },
    );

    await t.step(
      "the real programs with MSK's token, which this broker cannot accept, exit 1 with that sentence",
      async () => {
        for (const name of ["ingest", "worker"] as const) {
          const program = await startProgram(name, {
            ...env,
            KAFKA_TOPIC: topic,
            KAFKA_DLQ_TOPIC: topic,
            ...(name === "ingest"
              ? { INGEST_PORT: "0", WEBHOOK_SECRET: TEST_SECRET, PULL_ENABLED: "false" }
              : {
                WORKER_PORT: "0",
                WAREHOUSE_URL: stack.plain.WAREHOUSE_URL,
                WAREHOUSE_SCHEMA: `oauth_${crypto.randomUUID().slice(0, 8)}`,
              }),
          }, { listening: false });
          const line = await failedStart(program, 60_000);
          assert.match(
            JSON.stringify(line),
            /Kafka refused the MSK IAM token \(KAFKA_SASL_MECHANISM=aws-msk-iam\)/,
            name,
          );
        }
      },
    );
    await admin.admin.deleteTopics([topic]).catch(() => {});
  } finally {
    await admin.close();
    await stack.stop();
  }
});
