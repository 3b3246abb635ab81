import assert from "node:assert/strict";
import { z } from "zod";
import { ConfigError, loadConfig } from "../config.ts";
import { clientOptions } from "./client_options.ts";
import { explainKafkaError } from "./kafka_error.ts";
import { kafkaConnection, kafkaConnectionSchema, withKafkaChecks } from "./settings.ts";

const schema = withKafkaChecks(z.object(kafkaConnectionSchema));
const load = (env: Record<string, string>) => loadConfig(schema, (k) => env[k]);
const IAM = {
  KAFKA_BROKERS: "b-1.pipeline.abc.c2.kafka-serverless.eu-west-1.amazonaws.com:9098",
  KAFKA_SSL: "true",
  KAFKA_SASL_MECHANISM: "aws-msk-iam",
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

const problems = (env: Record<string, string>) => {
  try {
    load(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return Object.fromEntries(err.problems.map((p) => [p.variable, p.message]));
  }
  assert.fail("no ConfigError");
};

Deno.test("aws-msk-iam: TLS, a region and credentials are required, a user name and password refused, each named", () => {
  assert.deepEqual(
    problems({
      KAFKA_BROKERS: "127.0.0.1:9098",
      KAFKA_SASL_MECHANISM: "aws-msk-iam",
      KAFKA_SASL_USERNAME: "u",
      KAFKA_SASL_PASSWORD: "p",
      AWS_EC2_METADATA_DISABLED: "true",
    }),
    {
      KAFKA_SSL: "must be true with KAFKA_SASL_MECHANISM=aws-msk-iam: MSK takes IAM on its TLS " +
        "port (9098)",
      KAFKA_SASL_USERNAME: "is set, but with KAFKA_SASL_MECHANISM=aws-msk-iam the AWS " +
        "credentials sign in",
      KAFKA_SASL_PASSWORD: "is set, but with KAFKA_SASL_MECHANISM=aws-msk-iam the AWS " +
        "credentials sign in",
      AWS_REGION: "required with KAFKA_SASL_MECHANISM=aws-msk-iam: the cluster's region (or " +
        "AWS_DEFAULT_REGION)",
      AWS_EC2_METADATA_DISABLED: "is true, and neither AWS_ACCESS_KEY_ID nor a container " +
        "credentials endpoint is set: with KAFKA_SASL_MECHANISM=aws-msk-iam the token needs AWS " +
        "credentials",
    },
  );
  assert.deepEqual(
    problems({ ...IAM, AWS_SECRET_ACCESS_KEY: "" }),
    ({
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: "required with AWS_ACCESS_KEY_ID",
      }).AWS_SECRET_ACCESS_KEY
      ? { AWS_SECRET_ACCESS_KEY: "required with AWS_ACCESS_KEY_ID" }
      : {},
  );
});

Deno.test("aws-msk-iam: the connection holds the region and the chain's settings as plain data, and its clients authenticate with OAUTHBEARER", async () => {
  const connection = await kafkaConnection(
    load({ ...IAM, AWS_REGION: "", AWS_DEFAULT_REGION: "eu-west-1" }),
    "ingest",
  );
  assert.deepEqual(connection.sasl, {
    mechanism: "aws-msk-iam",
    region: "eu-west-1",
    credentials: {
      AWS_EC2_METADATA_DISABLED: false,
      AWS_ACCESS_KEY_ID: IAM.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: IAM.AWS_SECRET_ACCESS_KEY,
    },
  });
  assert.deepEqual(structuredClone(connection), connection, "it can be posted to a Web Worker");
  assert.equal(
    connection.summary,
    `KAFKA_BROKERS=${IAM.KAFKA_BROKERS} KAFKA_SSL=true KAFKA_SASL_MECHANISM=aws-msk-iam ` +
      "AWS_REGION=eu-west-1 credentials=environment",
  );
  assert.ok(!connection.summary.includes(IAM.AWS_SECRET_ACCESS_KEY));
  const sasl = clientOptions(connection).sasl!;
  assert.equal(sasl.mechanism, "OAUTHBEARER");
  assert.equal(typeof sasl.token, "function");
  assert.equal(
    clientOptions(connection).sasl!.token,
    sasl.token,
    "one token source per connection",
  );
  // The token is MSK's: a base64url presigned URL for kafka-cluster:Connect in the region.
  const token = await (sasl.token as () => Promise<string>)();
  const url = new URL(atob(token.replaceAll("-", "+").replaceAll("_", "/")));
  assert.equal(url.host, "kafka.eu-west-1.amazonaws.com");
  assert.equal(url.searchParams.get("Action"), "kafka-cluster:Connect");
  assert.match(
    url.searchParams.get("X-Amz-Credential")!,
    /^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/,
  );
});

Deno.test("aws-msk-iam: a refused token or missing credentials say what to check", async () => {
  const connection = await kafkaConnection(load(IAM), "worker");
  const refused = new Error("Connection failed", {
    cause: new Error("SASL authentication failed", { cause: new Error("SASL/OAUTHBEARER") }),
  });
  assert.equal(
    explainKafkaError(refused, connection),
    "Kafka refused the MSK IAM token (KAFKA_SASL_MECHANISM=aws-msk-iam): check that " +
      "AWS_REGION=eu-west-1 is the cluster's region and that the AWS credentials (the role) are " +
      "allowed kafka-cluster:Connect on the cluster",
  );
  const noCredentials = new Error("Connection failed", {
    cause: Object.assign(
      new Error(
        "Cannot make the MSK IAM token for eu-west-1: Cannot get AWS credentials from the container endpoint: HTTP 500",
      ),
      { name: "MskIamTokenError" },
    ),
  });
  assert.equal(
    explainKafkaError(noCredentials, connection),
    "KAFKA_SASL_MECHANISM=aws-msk-iam: Cannot make the MSK IAM token for eu-west-1: Cannot get " +
      "AWS credentials from the container endpoint: HTTP 500",
  );
});
