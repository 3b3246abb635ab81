/**
 * Kafka record headers as the programs pass them around: name and value pairs in the record's
 * order. A name may repeat (Kafka allows it), and every value is kept: a dead letter carries the
 * record's headers as they were, and a re-driven record carries them back the same way. Where one
 * value of a name is wanted, the last one is read, as Kafka's own clients do (`lastHeader`).
 *
 * @example
 * ```ts
 * const headers: RecordHeaders = [textHeader("tenant", "a"), textHeader("tenant", "b")];
 * headerText(headers, "tenant"); // "b"
 * ```
 */

/** One header: its name as text, its value as bytes (an absent value reads as empty bytes). */
export type RecordHeader = [name: string, value: Uint8Array];

/** A record's headers, in record order; names may repeat. */
export type RecordHeaders = RecordHeader[];

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The last value of header `name`, or undefined when the record has none. */
export function lastHeader(headers: readonly RecordHeader[], name: string): Uint8Array | undefined {
  for (let i = headers.length - 1; i >= 0; i--) {
    const [n, v] = headers[i]!;
    if (n === name) return v;
  }
  return undefined;
}

/** The last value of header `name` as UTF-8 text, or undefined when the record has none. */
export function headerText(headers: readonly RecordHeader[], name: string): string | undefined {
  const value = lastHeader(headers, name);
  return value === undefined ? undefined : decoder.decode(value);
}

/** A header whose value is `text` in UTF-8. */
export function textHeader(name: string, text: string): RecordHeader {
  return [name, encoder.encode(text)];
}
