/**
 * `deno task redrive [--stage schema,write] [--reason text] [--dry-run] [--group name]`:
 * moves dead letters from `KAFKA_DLQ_TOPIC` back to `KAFKA_TOPIC` (all, or those matching the
 * filter), committing its own progress. Prints one JSON line with the counts on stdout.
 *
 * Exit codes: 0 done, 1 failed, 2 bad arguments or configuration.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { ConfigError, loadConfig } from "../../shared/config.ts";
import {
  KAFKA_CONNECTION_VARIABLES,
  kafkaConnection,
  kafkaConnectionSchema,
  withKafkaChecks,
} from "../../shared/kafka/settings.ts";
import { createLogger, errorFields } from "../../shared/logger.ts";
import { workerConfigSchema } from "../config.ts";
import { redriveGroupId } from "../../shared/redrive/redrive_filter.ts";
import { runRedrive } from "../../shared/redrive/run_redrive.ts";

const STAGES = ["utf8", "json", "schema", "write"];

const redriveConfigSchema = withKafkaChecks(workerConfigSchema.pick({
  ...Object.fromEntries(KAFKA_CONNECTION_VARIABLES.map((k) => [k, true])) as Record<
    keyof typeof kafkaConnectionSchema,
    true
  >,
  KAFKA_TOPIC: true,
  KAFKA_DLQ_TOPIC: true,
  KAFKA_GROUP_ID: true,
  KAFKA_CLIENT_ID: true,
  LOG_LEVEL: true,
}));

const log = createLogger().child({ component: "redrive" });
try {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      stage: { type: "string", default: "" },
      reason: { type: "string", default: "" },
      group: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      "timeout-ms": { type: "string", default: "300000" },
    },
  });
  const stages = values.stage.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = stages.filter((s) => !STAGES.includes(s));
  if (bad.length > 0) throw new ConfigError([{ variable: "--stage", message: `unknown ${bad}` }]);
  const timeoutMs = z.coerce.number().int().min(1_000).parse(values["timeout-ms"]);
  const config = loadConfig(redriveConfigSchema, (key) => Deno.env.get(key));
  const logger = createLogger({ level: config.LOG_LEVEL }).child({ component: "redrive" });
  const filter = { stages, reasonContains: values.reason };
  const connection = await kafkaConnection(config, config.KAFKA_CLIENT_ID);
  const result = await runRedrive(connection, {
    dlqTopic: config.KAFKA_DLQ_TOPIC,
    topic: config.KAFKA_TOPIC,
    groupId: values.group ?? redriveGroupId(config.KAFKA_GROUP_ID, filter),
    filter,
    dryRun: values["dry-run"],
    timeoutMs,
  }, logger);
  await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(result) + "\n"));
  Deno.exit(0);
} catch (err) {
  const usage = err instanceof ConfigError ||
    (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ||
    err instanceof z.ZodError;
  log.error(usage ? "bad arguments" : "re-drive failed", errorFields(err));
  Deno.exit(usage ? 2 : 1);
}
