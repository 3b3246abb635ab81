/**
 * The S3 side of a staged write: the rows of a `load` step become gzip CSV objects under its
 * key prefix before the transaction, and are deleted once the write has ended, committed or
 * not.
 *
 * Objects are made and uploaded one at a time (see `gzipCsvParts`), so memory holds one
 * compressed part, not the flush. A failed upload deletes what it had put and throws. A failed
 * delete is logged and forgotten: the rows are committed (or will be written again under a new
 * prefix), and the bucket's lifecycle rule expires whatever is left, as it does after a crash.
 */
import type { Logger } from "../../shared/logger.ts";
import { errorFields, silentLogger } from "../../shared/logger.ts";
import type { StagedRows } from "./dialect.ts";
import { gzipCsvParts } from "./gzip_csv_parts.ts";
import type { ObjectStore } from "./s3_client.ts";

/** Uploads and removes a write's objects. */
export interface ObjectStaging {
  /**
   * Uploads `staged.rows` as gzip CSV objects under `staged.keyPrefix`; returns their keys.
   * @throws {S3Error} after deleting the objects it had already put.
   */
  upload(staged: StagedRows): Promise<string[]>;
  /** Deletes `keys`; failures are logged at warn, never thrown. */
  remove(keys: readonly string[]): Promise<void>;
}

/** Creates the staging on `store`. */
export function createS3Staging(
  store: ObjectStore,
  deps: { logger?: Logger; maxPartBytes?: number } = {},
): ObjectStaging {
  const logger = deps.logger ?? silentLogger;
  const remove = async (keys: readonly string[]) => {
    const failed: string[] = [];
    let firstError: unknown;
    await Promise.all(keys.map((key) =>
      store.delete(key).catch((err) => {
        failed.push(key);
        firstError ??= err;
      })
    ));
    if (failed.length > 0) {
      logger.warn("cannot delete staged objects; the bucket's lifecycle rule will", {
        objects: failed.map((k) => store.url(k)),
        ...errorFields(firstError),
      });
    }
  };
  return {
    async upload(staged) {
      const keys: string[] = [];
      const started = performance.now();
      let bytes = 0;
      try {
        for await (
          const part of gzipCsvParts(staged.rows, {
            trailing: staged.trailing,
            ...(deps.maxPartBytes ? { maxPartBytes: deps.maxPartBytes } : {}),
          })
        ) {
          const key = `${staged.keyPrefix}part-${String(keys.length).padStart(5, "0")}.csv.gz`;
          await store.put(key, part.body, "application/gzip");
          keys.push(key);
          bytes += part.body.length;
        }
      } catch (err) {
        await remove(keys);
        throw err;
      }
      logger.debug("staged", {
        prefix: store.url(staged.keyPrefix),
        objects: keys.length,
        rows: staged.rows.length,
        bytes,
        ms: Math.round(performance.now() - started),
      });
      return keys;
    },
    remove,
  };
}
