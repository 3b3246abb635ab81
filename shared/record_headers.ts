/**
 * Kafka record headers as the programs pass them around, and their flattening for a produce.
 */

/** Kafka record headers (the client gives Buffers, which are Uint8Arrays). */
export type RecordHeaders = Record<
  string,
  Uint8Array | string | (Uint8Array | string)[] | undefined
>;

/** Our headers as single values (a repeated header keeps its last value). */
export function flatHeaders(headers: RecordHeaders): Record<string, string | Uint8Array> {
  const out: Record<string, string | Uint8Array> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value.at(-1) : value;
    if (last !== undefined) out[name] = last;
  }
  return out;
}
