/**
 * Decoding many record values at once into warehouse rows, or the reason they cannot be one.
 *
 * Decoding (UTF-8, JSON, the shared zod schema) is most of the worker's CPU per record, so it
 * sits behind this interface: `inlineDecoder` runs it on the calling thread, and
 * `createThreadDecoder` (see `thread_decoder.ts`) on Web Worker threads, so that it uses another
 * core while the main thread runs the Kafka client and postgres.js.
 */
import {
  decodeEvent,
  type DecodeStage,
  type Issue,
  type NewerVersion,
} from "../../shared/event.ts";
import { toUserRow, type UserRow } from "../warehouse/user_row.ts";

/**
 * One decoded record: its row, why it has none, or that its version is newer than this code
 * knows (its partition is held there, see `handle_batch.ts`).
 */
export type DecodedRecord =
  | { ok: true; row: UserRow }
  | { ok: false; stage: DecodeStage; reason: string; issues: Issue[] }
  | NewerVersion;

/** Decodes record values, in order. */
export interface RecordDecoder {
  decode(values: readonly (Uint8Array | null)[]): Promise<DecodedRecord[]>;
  /** Releases threads, if any. */
  close(): void;
}

/** Decodes one value (the shared schema, then the row). */
export function decodeRecord(value: Uint8Array | null): DecodedRecord {
  const d = decodeEvent(value);
  return d.ok ? { ok: true, row: toUserRow(d.event) } : d;
}

/** Decodes on the calling thread. */
export const inlineDecoder: RecordDecoder = {
  decode: (values) => Promise.resolve(values.map(decodeRecord)),
  close() {},
};
