/**
 * The test kit's ingest configuration: loaded through the ingest's own schema, with test
 * defaults (no broker reachable, the test secret, no pull job, 1 ms linger).
 *
 * @example
 * ```ts
 * const config = testConfig({ INGEST_MAX_ITEMS: "2" });
 * ```
 */
import { type IngestConfig, loadIngestConfig } from "../ingest/config.ts";
import { TEST_SECRET } from "./webhook.ts";

/**
 * A loaded ingest configuration with test defaults and `overrides` applied (as env text).
 * @throws {ConfigError} when an override is invalid.
 */
export function testConfig(overrides: Record<string, string> = {}): Readonly<IngestConfig> {
  const env: Record<string, string> = {
    KAFKA_BROKERS: "127.0.0.1:9",
    WEBHOOK_SECRET: TEST_SECRET,
    INGEST_LINGER_MS: "1",
    PULL_BACKOFF_MS: "1",
    PULL_ENABLED: "false",
    ...overrides,
  };
  return loadIngestConfig((key) => env[key]);
}
