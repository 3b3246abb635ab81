/**
 * Fakes behind the worker's small interfaces, for socket-free unit tests.
 */
import type { ConsumedMessage } from "./consume/consumed_message.ts";
import type { DeadLetter, DeadLetterSink } from "./batch/dead_letter.ts";
import type { UserRow } from "./warehouse/user_row.ts";
import type { Sink } from "./warehouse/sink.ts";
import { WriteError } from "./warehouse/write_error.ts";

/** A sink that keeps rows by id and can be told to fail. */
export interface FakeSink extends Sink {
  rows: Map<string, UserRow>;
  /** Every call's row count, in order. */
  calls: number[];
  /** Rows whose id is here are rejected permanently (SQLSTATE 23514). */
  rejectIds: Set<string>;
  /** While above zero, each call fails transiently and decrements it. */
  failTransiently: number;
}

/** Creates a `FakeSink`. */
export function fakeSink(): FakeSink {
  const sink: FakeSink = {
    rows: new Map(),
    calls: [],
    rejectIds: new Set(),
    failTransiently: 0,
    upsert(rows) {
      sink.calls.push(rows.length);
      if (sink.failTransiently > 0) {
        sink.failTransiently--;
        return Promise.reject(new WriteError("connection refused", true, "ECONNREFUSED"));
      }
      const bad = rows.find((r) => sink.rejectIds.has(r[0]!));
      if (bad) {
        return Promise.reject(
          new WriteError(`row ${bad[0]} violates check constraint`, false, "23514"),
        );
      }
      for (const r of rows) sink.rows.set(r[0]!, r);
      return Promise.resolve();
    },
  };
  return sink;
}

/** A dead-letter sink that records what it was sent, or fails when told. */
export interface FakeDeadLetters extends DeadLetterSink {
  sent: DeadLetter[];
  fail: boolean;
}

/** Creates a `FakeDeadLetters`. */
export function fakeDeadLetters(): FakeDeadLetters {
  const dl: FakeDeadLetters = {
    sent: [],
    fail: false,
    send(records) {
      if (dl.fail) return Promise.reject(new Error("broker not available"));
      dl.sent.push(...records);
      return Promise.resolve();
    },
  };
  return dl;
}

const encoder = new TextEncoder();

/** A consumed message at `offset` with `value` (a string is UTF-8 encoded). */
export function message(
  offset: number,
  value: string | Uint8Array | null,
  key: string | null = null,
): ConsumedMessage {
  return {
    topic: "user_created",
    partition: 2,
    offset: String(offset),
    key: key === null ? null : encoder.encode(key),
    value: typeof value === "string" ? encoder.encode(value) : value,
    headers: { traceparent: "00-abc-def-01" },
  };
}
