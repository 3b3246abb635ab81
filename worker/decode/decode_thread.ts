/**
 * The body of a decoding thread (a Web Worker started by `thread_decoder.ts`): receives the
 * values of a batch packed in one transferred buffer, answers with their decoded records.
 */
import { decodeRecord } from "./record_decoder.ts";

/** A request: values packed end to end; `ends[i]` is where value i ends (-1: null value). */
export interface DecodeRequest {
  id: number;
  buffer: ArrayBuffer;
  starts: Int32Array;
  ends: Int32Array;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (e) => {
  const { id, buffer, starts, ends } = e.data;
  const bytes = new Uint8Array(buffer);
  const records = [];
  for (let i = 0; i < ends.length; i++) {
    const start = starts[i]!;
    records.push(decodeRecord(start < 0 ? null : bytes.subarray(start, ends[i]!)));
  }
  scope.postMessage({ id, records });
};
