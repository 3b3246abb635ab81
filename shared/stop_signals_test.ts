import assert from "node:assert/strict";
import { createLogger, type LogFields } from "./logger.ts";
import { INTERRUPTED_EXIT_CODE, onStopSignals, type StopSignal } from "./stop_signals.ts";

/** Signals sent by hand, and what the program did with them. */
function harness() {
  const listeners = new Map<StopSignal, () => void>();
  const stops: StopSignal[] = [];
  const exits: number[] = [];
  const lines: LogFields[] = [];
  const logger = createLogger({ write: (line) => lines.push(JSON.parse(line)) });
  onStopSignals((signal) => stops.push(signal), {
    logger,
    addSignalListener: (signal, listener) => listeners.set(signal, listener),
    exit: (code) => exits.push(code),
  });
  return { send: (signal: StopSignal) => listeners.get(signal)!(), stops, exits, lines };
}

Deno.test("onStopSignals() starts the stop on the first SIGINT and exits 130 on the second, saying so", () => {
  const h = harness();
  h.send("SIGINT");
  assert.deepEqual(h.stops, ["SIGINT"]);
  assert.deepEqual(h.exits, [], "the first Ctrl-C stops gracefully");
  h.send("SIGINT");
  assert.deepEqual(h.stops, ["SIGINT"], "the stop is not started twice");
  assert.deepEqual(h.exits, [INTERRUPTED_EXIT_CODE]);
  assert.equal(INTERRUPTED_EXIT_CODE, 130);
  assert.equal(h.lines.length, 1);
  assert.equal(h.lines[0]!.level, "warn");
  assert.equal(h.lines[0]!.msg, "second SIGINT: exiting at once, without finishing the stop");
});

Deno.test("onStopSignals() lets a repeated SIGTERM wait for the stop, and a SIGINT after it end it", () => {
  const h = harness();
  h.send("SIGTERM");
  h.send("SIGTERM");
  assert.deepEqual(h.stops, ["SIGTERM"]);
  assert.deepEqual(h.exits, [], "an orchestrator's second SIGTERM does not cut the stop");
  h.send("SIGINT");
  assert.deepEqual(h.exits, [INTERRUPTED_EXIT_CODE]);
  assert.equal(h.lines[0]!.stopping, "SIGTERM");
});
