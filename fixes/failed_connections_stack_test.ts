/**
 * `fixes/failed_connections.ts` against a real broker: a client that speaks TLS and SASL to a
 * plaintext Kafka port fails to connect, is closed, and its process ends without an uncaught
 * `Connection to … failed.` (there were 4, printed after the program, or a test run, ended).
 * In a child process, because those errors came only when the process exited.
 */
import assert from "node:assert/strict";
import { sharedStack } from "../stack/harness.ts";
import { ROOT } from "../stack/paths.ts";

Deno.test("a client refused by a plaintext port, then closed, leaves no uncaught error at exit", async () => {
  const stack = await sharedStack();
  const module = (path: string) => JSON.stringify(new URL(path, `file://${ROOT}/`).href);
  const script = `
    import { createKafkaProducer } from ${module("shared/kafka/producer.ts")};
    import { kafkaConnection } from ${module("shared/kafka/settings.ts")};
    import { silentLogger } from ${module("shared/logger.ts")};
    const connection = await kafkaConnection({
      KAFKA_BROKERS: ${JSON.stringify(stack.KAFKA_BROKERS.split(","))},
      KAFKA_SSL: true,
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: "u",
      KAFKA_SASL_PASSWORD: "p",
    }, "failed-connections-test");
    const producer = createKafkaProducer(connection, { logger: silentLogger });
    try {
      await producer.connect(["user_created"]);
      console.log("connected");
    } catch (err) {
      console.log("refused: " + err.message);
    }
    await producer.close();
    // Nothing more: the process ends when its event loop is empty, and a connection left
    // behind reports its late errors before that (Deno prints them as the process exits).
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.match(stdout, /^refused: .*does not speak TLS/, stdout + stderr);
  // They were printed on stdout, not stderr.
  assert.doesNotMatch(stdout + stderr, /Uncaught/, stdout + stderr);
  assert.equal(out.code, 0, stderr);
});
