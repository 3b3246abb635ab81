/**
 * A `RecordDecoder` on Web Worker threads: each call packs the values into one buffer
 * (transferred, not copied), a thread decodes and validates them and sends back rows (arrays
 * of strings clone cheaply: ~1 µs a record, against ~12 µs to decode it). Calls are spread
 * round-robin over the threads and may overlap. If a thread dies, the calls in flight fail
 * (the batch is retried) and later calls decode on the main thread.
 */
import { type DecodedRecord, inlineDecoder, type RecordDecoder } from "./record_decoder.ts";
import type { DecodeRequest } from "./decode_thread.ts";

/**
 * Fewer values than this decode on the calling thread: the hand-off to a thread and back
 * (~0.4 ms) costs more than decoding them (~12 µs each), and a quiet stream's few records
 * should reach the warehouse without it.
 */
export const INLINE_BELOW = 32;

/** Starts `threads` decoding threads. */
export function createThreadDecoder(threads: number): RecordDecoder {
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL("./decode_thread.ts", import.meta.url), { type: "module" }),
  );
  const pending = new Map<number, PromiseWithResolvers<DecodedRecord[]>>();
  let nextId = 1;
  let broken = false;
  for (const w of workers) {
    w.onmessage = (e: MessageEvent<{ id: number; records: DecodedRecord[] }>) => {
      const call = pending.get(e.data.id);
      pending.delete(e.data.id);
      call?.resolve(e.data.records);
    };
    w.onerror = (e) => {
      e.preventDefault();
      broken = true;
      const error = new Error(`decoding thread failed: ${e.message}`);
      for (const call of pending.values()) call.reject(error);
      pending.clear();
    };
  }
  return {
    decode(values) {
      if (broken || values.length < INLINE_BELOW) return inlineDecoder.decode(values);
      let total = 0;
      for (const v of values) total += v?.byteLength ?? 0;
      const packed = new Uint8Array(total);
      const starts = new Int32Array(values.length);
      const ends = new Int32Array(values.length);
      let offset = 0;
      values.forEach((v, i) => {
        if (v === null) {
          starts[i] = -1;
          return;
        }
        packed.set(v, offset);
        starts[i] = offset;
        offset += v.byteLength;
        ends[i] = offset;
      });
      const id = nextId++;
      const call = Promise.withResolvers<DecodedRecord[]>();
      pending.set(id, call);
      const request: DecodeRequest = { id, buffer: packed.buffer, starts, ends };
      workers[id % workers.length]!.postMessage(request, [packed.buffer]);
      return call.promise;
    },
    close() {
      for (const w of workers) w.terminate();
      for (const call of pending.values()) call.reject(new Error("decoder closed"));
      pending.clear();
    },
  };
}
