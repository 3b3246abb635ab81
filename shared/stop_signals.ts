/**
 * How a program stops on a signal: SIGTERM or SIGINT starts its graceful stop (finish or abandon
 * the work in flight, close the clients, exit); a SIGINT while that stop is under way (Ctrl-C
 * pressed again at a terminal) exits at once with `INTERRUPTED_EXIT_CODE`, after one line saying
 * so. A repeated SIGTERM changes nothing: an orchestrator that wants the process gone sends
 * SIGKILL after its grace period.
 *
 * Exiting at once loses nothing that was promised: the ingest has acknowledged only what Kafka
 * acknowledged, and the worker has committed only the offsets of rows already written, so what
 * was in flight is sent again by the client or read again by the next worker.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * declare const stop: (signal: StopSignal) => Promise<void>;
 *
 * onStopSignals((signal) => void stop(signal), { logger: createLogger() });
 * ```
 */
import type { Logger } from "./logger.ts";

/** The signals that stop a program. */
export type StopSignal = "SIGTERM" | "SIGINT";

/** The exit code after a second SIGINT: 128 + 2, what a shell reports for a SIGINT death. */
export const INTERRUPTED_EXIT_CODE = 130;

/** Options of `onStopSignals`; the last two are for tests. */
export interface StopSignalsOptions {
  /** Where the line about the second SIGINT goes. */
  logger: Logger;
  /** Default `Deno.addSignalListener`. */
  addSignalListener?: (signal: StopSignal, listener: () => void) => void;
  /** Default `Deno.exit`. */
  exit?: (code: number) => void;
}

/**
 * Calls `stop` once, on the first SIGTERM or SIGINT; exits at once on a SIGINT after that.
 */
export function onStopSignals(
  stop: (signal: StopSignal) => void,
  opts: StopSignalsOptions,
): void {
  const listen = opts.addSignalListener ??
    ((signal, listener) => Deno.addSignalListener(signal, listener));
  const exit = opts.exit ?? ((code) => Deno.exit(code));
  let stopping: StopSignal | undefined;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    listen(signal, () => {
      if (stopping === undefined) {
        stopping = signal;
        stop(signal);
      } else if (signal === "SIGINT") {
        opts.logger.warn("second SIGINT: exiting at once, without finishing the stop", {
          stopping,
          exitCode: INTERRUPTED_EXIT_CODE,
        });
        exit(INTERRUPTED_EXIT_CODE);
      }
    });
  }
}
