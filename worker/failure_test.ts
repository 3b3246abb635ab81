import assert from "node:assert/strict";
import { ConfigError } from "../shared/config.ts";
import { KafkaSetupError } from "../shared/kafka/kafka_error.ts";
import { DeadLetterError } from "./batch/dead_letter.ts";
import { TableSchemaError } from "./warehouse/evolve_table.ts";
import { decide } from "./failure.ts";
import { classifyWriteError, toWriteError, WriteError } from "./warehouse/write_error.ts";
import type { Sink } from "./warehouse/port.ts";
import { upsertIsolating } from "./batch/upsert_isolating.ts";

Deno.test("decide() retries outages, isolates refused rows, stops on configuration", () => {
  const pgError = (code: string) => Object.assign(new Error(code), { code });
  const cases: [unknown, string][] = [
    [toWriteError(pgError("08006")), "retry warehouse"], // connection failure
    [toWriteError(pgError("40001")), "retry warehouse"], // serialization failure
    [toWriteError(pgError("23505")), "retry warehouse"], // two owners during a rebalance
    [toWriteError(pgError("22001")), "isolate rows_rejected"], // value too long
    [new WriteError("refused", "isolate", "23502"), "isolate rows_rejected"],
    [new DeadLetterError("dlq down"), "retry dead_letter_topic"],
    [
      new ConfigError([{ variable: "WORKER_FLUSH_ROWS", message: "not a number" }]),
      "stop configuration",
    ],
    [new KafkaSetupError("KAFKA_SASL_PASSWORD is wrong"), "stop configuration"],
    [new TableSchemaError("column email is integer"), "stop table_schema"],
    [new TypeError("a bug"), "retry unexpected"],
    ["a string", "retry unexpected"],
  ];
  for (const [err, expected] of cases) {
    const d = decide(err);
    assert.equal(`${d.action} ${d.kind}`, expected, String(err));
  }
});

/** An error as postgres.js throws it: an Error with the server's (or the socket's) code. */
const clientError = (code: string, message: string, detail?: string) =>
  Object.assign(new Error(message), { code, ...(detail ? { detail } : {}) });

const REDSHIFT_TRANSIENT: [string, Error][] = [
  [
    "1023, as Redshift reports it",
    clientError(
      "XX000",
      "1023",
      "Serializable isolation violation on table - 156011, transactions forming the cycle " +
        "are: 1189, 1188 (pid:8745)",
    ),
  ],
  [
    "1023, with the detail in the message",
    clientError(
      "XX000",
      "1023 DETAIL: Serializable isolation violation on table - 156011, transactions forming " +
        "the cycle are: 1189, 1188 (pid:8745)",
    ),
  ],
  [
    "a conflict with a concurrent transaction",
    clientError("XX000", "could not complete because of conflict with concurrent transaction"),
  ],
  ["a connection reset", clientError("ECONNRESET", "read ECONNRESET")],
  ["a connection closed", clientError("CONNECTION_CLOSED", "write CONNECTION_CLOSED rs:5439")],
  [
    "the cluster shutting down (57P01)",
    clientError("57P01", "terminating connection due to administrator command"),
  ],
  [
    "too many connections (53300)",
    clientError("53300", 'connection limit "500" exceeded for non-superusers'),
  ],
  [
    "a serialization failure (40001)",
    clientError("40001", "could not serialize access due to concurrent update"),
  ],
];

Deno.test("decide() retries Redshift's transient errors with backoff and never dead-letters them", async () => {
  for (const [what, err] of REDSHIFT_TRANSIENT) {
    assert.equal(classifyWriteError(err), "retry", what);
    const error = toWriteError(err);
    assert.equal(error.action, "retry", what);
    assert.deepEqual(decide(error), { action: "retry", kind: "warehouse" }, what);
    // What the batch stage does with it: nothing isolated or rejected, the error goes up to the
    // committer, which keeps the batch and writes it again after a backoff delay.
    const calls: number[] = [];
    const sink: Sink = {
      upsert: (rows) => {
        calls.push(rows.length);
        return Promise.reject(toWriteError(err)); // as sink.ts wraps every client error
      },
    };
    const thrown = await upsertIsolating([["a"], ["b"]], (r) => r, sink).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(thrown instanceof WriteError && thrown.action === "retry", what);
    assert.deepEqual(calls, [2], `${what}: not split to look for a bad row`);
  }
});

Deno.test("decide() still isolates a value too long (22001) and dead-letters the row alone", async () => {
  const err = clientError("22001", "value too long for type character varying(1024)");
  assert.equal(classifyWriteError(err), "isolate");
  assert.deepEqual(decide(toWriteError(err)), { action: "isolate", kind: "rows_rejected" });
  const sink: Sink = {
    upsert: (rows) =>
      rows.some((r) => r[0] === "b")
        ? Promise.reject(toWriteError(err))
        : Promise.resolve({ stale: 0 }),
  };
  const result = await upsertIsolating([["a"], ["b"]], (r) => r, sink);
  assert.equal(result.written, 1);
  assert.deepEqual(result.rejected.map((r) => [r.item, r.error.code]), [[["b"], "22001"]]);
});
