/**
 * Rows as gzip-compressed CSV objects of bounded size, for `COPY … FROM 's3://…' CSV GZIP`.
 *
 * Redshift loads the objects under one prefix in parallel, one per slice at a time, so a
 * large flush becomes several objects rather than one. A part holds at most `maxPartBytes` of
 * CSV (uncompressed UTF-8), and always at least one row. Parts are made one at a time, while
 * the caller asks for the next one: only one part's compressed bytes and a small encoding
 * buffer are in memory, never the CSV of the whole flush (the worker's heap is bounded).
 */
import { csvRow } from "./csv_row.ts";

/** Uncompressed CSV bytes per object: Redshift's guidance is 1 MB to 1 GB after compression. */
export const MAX_PART_BYTES = 64 * 1024 * 1024;

/** Bytes encoded before they are handed to the compressor in one write. */
const CHUNK_BYTES = 1024 * 1024;

/** One finished object. */
export interface GzipCsvPart {
  /** The gzip bytes, exactly what is uploaded. */
  body: Uint8Array<ArrayBuffer>;
  /** Rows in it. */
  rows: number;
  /** Bytes of CSV before compression. */
  csvBytes: number;
}

/** Options for `gzipCsvParts`. */
export interface GzipCsvOptions {
  /** Values appended to every row (the same for all), e.g. the write time. */
  trailing?: readonly (string | null)[];
  /** Upper bound of a part's CSV bytes (default `MAX_PART_BYTES`). */
  maxPartBytes?: number;
}

/**
 * Yields `rows` (followed by `trailing`) as gzip CSV parts, in row order.
 * @throws {RangeError} when `maxPartBytes` is not a positive number.
 */
export async function* gzipCsvParts(
  rows: readonly (readonly (string | null)[])[],
  opts: GzipCsvOptions = {},
): AsyncGenerator<GzipCsvPart> {
  const max = opts.maxPartBytes ?? MAX_PART_BYTES;
  if (!(max >= 1)) throw new RangeError(`maxPartBytes must be positive, got ${max}`);
  const trailing = opts.trailing ?? [];
  const encoder = new TextEncoder();
  // Lines are UTF-8-encoded straight into `chunk`; bytes [0, used) belong to `part` and are
  // not yet compressed.
  const chunk = new Uint8Array(CHUNK_BYTES);
  let used = 0;
  let part: _GzipWriter | undefined;
  for (const row of rows) {
    const line = csvRow(trailing.length > 0 ? [...row, ...trailing] : row);
    let start = used;
    let written = encoder.encodeInto(line, chunk.subarray(start));
    let large: Uint8Array<ArrayBuffer> | undefined;
    if (written.read < line.length) { // no room left: hand over what is pending, start afresh
      if (used > 0) await part!.write(chunk.slice(0, used));
      used = start = 0;
      written = encoder.encodeInto(line, chunk);
      if (written.read < line.length) large = encoder.encode(line); // larger than a chunk
    }
    const bytes = large?.length ?? written.written;
    if (part && part.csvBytes + bytes > max) {
      if (start > 0) await part.write(chunk.slice(0, start));
      yield await part.finish();
      part = undefined;
      if (!large) chunk.copyWithin(0, start, start + bytes);
      start = 0;
    }
    part ??= new _GzipWriter();
    part.rows++;
    part.csvBytes += bytes;
    if (large) await part.write(large);
    else used = start + bytes;
  }
  if (part) {
    if (used > 0) await part.write(chunk.slice(0, used));
    yield await part.finish();
  }
}

/** One part's compressor. */
class _GzipWriter {
  rows = 0;
  csvBytes = 0;
  #stream = new CompressionStream("gzip");
  #writer = this.#stream.writable.getWriter();
  // Read while writing: the stream applies backpressure, so unread output would stall writes.
  #output = new Response(this.#stream.readable).arrayBuffer();

  async write(bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    await this.#writer.write(bytes);
  }

  async finish(): Promise<GzipCsvPart> {
    await this.#writer.close();
    return { body: new Uint8Array(await this.#output), rows: this.rows, csvBytes: this.csvBytes };
  }
}
