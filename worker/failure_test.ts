import assert from "node:assert/strict";
import { ConfigError } from "../shared/config.ts";
import { KafkaSetupError } from "../shared/kafka/kafka_error.ts";
import { DeadLetterError } from "./batch/dead_letter.ts";
import { decide } from "./failure.ts";
import { toWriteError, WriteError } from "./warehouse/write_error.ts";

Deno.test("decide() retries outages, isolates refused rows, stops on configuration", () => {
  const pgError = (code: string) => Object.assign(new Error(code), { code });
  const cases: [unknown, string][] = [
    [toWriteError(pgError("08006")), "retry warehouse"], // connection failure
    [toWriteError(pgError("40001")), "retry warehouse"], // serialization failure
    [toWriteError(pgError("23505")), "retry warehouse"], // two owners during a rebalance
    [toWriteError(pgError("22001")), "isolate rows_rejected"], // value too long
    [new WriteError("refused", false, "23502"), "isolate rows_rejected"],
    [new DeadLetterError("dlq down"), "retry dead_letter_topic"],
    [
      new ConfigError([{ variable: "WORKER_FLUSH_ROWS", message: "not a number" }]),
      "stop configuration",
    ],
    [new KafkaSetupError("KAFKA_SASL_PASSWORD is wrong"), "stop configuration"],
    [new TypeError("a bug"), "retry unexpected"],
    ["a string", "retry unexpected"],
  ];
  for (const [err, expected] of cases) {
    const d = decide(err);
    assert.equal(`${d.action} ${d.kind}`, expected, String(err));
  }
});
