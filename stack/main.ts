// deno-lint-ignore-file no-console -- a command-line tool: its output is for the terminal
/**
 * `deno task stack up|down|status [--brokers 3] [--secure] [--name NAME] [--purge]`
 *
 * Runs the local stack (Apache Kafka in KRaft mode and PostgreSQL on free loopback ports).
 * Connection settings are written to `.stack/<name>/stack.env`; with `--secure`, Kafka also
 * serves SASL_SSL (SCRAM-SHA-512) and its client settings go to `.stack/<name>/secure.env`
 * (the password is in that file only, never printed).
 */
import { parseCommandLine } from "../shared/command_line.ts";
import { downStack, stackDir, StackError, stackStatus, upStack } from "./stack.ts";

const USAGE =
  "usage: deno task stack up|down|status [--brokers 1|3] [--secure] [--name NAME] [--purge]";

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args,
    allowPositionals: true,
    options: {
      brokers: { type: "string" },
      name: { type: "string", default: "local" },
      purge: { type: "boolean", default: false },
      secure: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }, USAGE);
  const command = positionals[0];
  const name = values.name!;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const brokers = values.brokers === undefined ? undefined : Number(values.brokers);
  if (brokers !== undefined && brokers !== 1 && brokers !== 3) {
    console.error(`--brokers must be 1 or 3, got ${values.brokers}\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case "up": {
      const started = performance.now();
      // Without --secure, a stack stays as it was created (secured or not).
      const secure = values.secure ? true : undefined;
      const state = await upStack({ name, brokers, secure, log: (l) => console.log(l) });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`stack "${name}" up in ${seconds} s; settings in ${stackDir(name)}/stack.env`);
      console.log(`KAFKA_BROKERS=${state.env.KAFKA_BROKERS}`);
      console.log(`WAREHOUSE_URL=${state.env.WAREHOUSE_URL}`);
      if (state.secure) {
        console.log(`SASL_SSL settings (with the password) in ${stackDir(name)}/secure.env`);
      }
      return 0;
    }
    case "down":
      await downStack(name, { purge: values.purge });
      console.log(`stack "${name}" stopped${values.purge ? " and its data deleted" : ""}`);
      return 0;
    case "status":
      for (const line of await stackStatus(name)) console.log(line);
      return 0;
    default:
      console.error(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    if (err instanceof StackError) {
      console.error(`stack: ${err.message}`);
      Deno.exit(1);
    }
    throw err;
  }
}
