/**
 * Keeps compose.yaml honest without a container engine: it must be valid Compose, run the
 * programs with exactly their deno.json task, pass them only variables their zod schemas declare
 * (and every one they require), give every long-running service a health check that the
 * dependent services wait for, and carry no secret.
 */
import assert from "node:assert/strict";
import { DCLinter } from "dclint";
import { parse } from "yaml";
import { ingestConfigSchema, loadIngestConfig } from "../ingest/config.ts";
import { loadWorkerConfig, workerConfigSchema } from "../worker/config.ts";

const ROOT = new URL("..", import.meta.url);

type Service = {
  image?: string;
  restart?: string;
  command?: string | string[];
  entrypoint?: string | string[];
  working_dir?: string;
  volumes?: (string | Record<string, unknown>)[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number | string; published?: string | number })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
};
type Compose = { services: Record<string, Service> };

const composeText = await Deno.readTextFile(new URL("compose.yaml", ROOT));
const compose = parse(composeText) as Compose;
const envExample = parseEnvFile(await Deno.readTextFile(new URL(".env.example", ROOT)));

/** The programs, their deno.json task and the schema of the variables they read. */
const PROGRAMS = [
  { name: "ingest", schema: ingestConfigSchema, load: loadIngestConfig },
  { name: "worker", schema: workerConfigSchema, load: loadWorkerConfig },
] as const;

function service(name: string): Service {
  const s = compose.services[name];
  assert.ok(s, `compose.yaml has no service "${name}"`);
  return s;
}

/** Services that run once and exit: depended on with `service_completed_successfully`. */
function oneShotServices(): Set<string> {
  const names = new Set<string>();
  for (const s of Object.values(compose.services)) {
    if (s.depends_on && !Array.isArray(s.depends_on)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on)) {
        if (condition === "service_completed_successfully") names.add(dep);
      }
    }
  }
  return names;
}

/** A service's environment as a map (compose also allows a `KEY=value` list). */
function environment(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((kv) => {
      const i = kv.indexOf("=");
      return i < 0 ? [kv, ""] : [kv.slice(0, i), kv.slice(i + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

/** `KEY=value` lines of an env file; comments and blank lines skipped, quotes removed. */
function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    vars[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  return vars;
}

const INTERPOLATION = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}/g;

/** The variables a value interpolates, and whether each is required (`:?`/`?`, no default). */
function interpolated(value: string): { name: string; op: string | undefined }[] {
  return [...value.matchAll(INTERPOLATION)]
    .filter((m) => m[1] !== undefined)
    .map((m) => ({ name: m[1]!, op: m[2] }));
}

/**
 * Compose's interpolation (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
 * `${VAR?error}`, `${VAR:+alt}`, `$$`) against `vars`, as `docker compose` does with `.env`.
 * @throws {Error} when a required variable is missing, with compose's message.
 */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(INTERPOLATION, (whole, name?: string, op?: string, arg = "") => {
    if (whole === "$$") return "$";
    const v = vars[name!];
    switch (op) {
      case ":-":
        return v ? v : arg;
      case "-":
        return v ?? arg;
      case ":?":
      case "?":
        if (op === ":?" ? !v : v === undefined) throw new Error(`${name}: ${arg}`);
        return v ?? "";
      case ":+":
        return v ? arg : "";
      case "+":
        return v === undefined ? "" : arg;
      default:
        return v ?? "";
    }
  });
}

/** Every string in a parsed YAML document (keys and values), comments excluded. */
function strings(node: unknown): string[] {
  if (typeof node === "string") return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node && typeof node === "object") {
    return Object.entries(node).flatMap(([k, v]) => [k, ...strings(v)]);
  }
  return [];
}

/** `deno` and the words of a deno.json task (`deno run <flags> <entry>`). */
async function taskCommand(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const entry = config.tasks?.[task];
  const command: string | undefined = typeof entry === "string" ? entry : entry?.command;
  assert.ok(command, `deno.json has no task "${task}"`);
  return command.trim().split(/\s+/);
}

/** dclint's verdicts that a file is not Compose at all, as opposed to its style rules. */
const SPEC_RULES = new Set(["invalid-yaml", "invalid-schema", "unknown-error"]);

/**
 * What dclint says breaks the Compose Specification in a file (its JSON Schema, which dclint
 * ships and checks with Ajv), one message per file at most: empty when the file is valid.
 */
function specViolations(path: string): string[] {
  const linter = new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] });
  return linter.lintFiles([path], false)
    .flatMap((result) => result.messages)
    .filter((m) => SPEC_RULES.has(m.rule))
    .map((m) => `${m.rule}: ${m.message}`);
}

/** `specViolations()` of a YAML text, through a temporary file. */
async function specViolationsOf(text: string): Promise<string[]> {
  const path = await Deno.makeTempFile({ prefix: "compose_test_", suffix: ".yaml" });
  try {
    await Deno.writeTextFile(path, text);
    return specViolations(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("compose.yaml is valid against the Compose Specification's JSON Schema", () => {
  assert.deepEqual(
    specViolations(new URL("compose.yaml", ROOT).pathname),
    [],
    "compose.yaml breaks the Compose Specification",
  );
});

Deno.test("the Compose validator rejects a broken document and knows the current specification", async () => {
  // It must be able to say no, or the test above proves nothing.
  const broken = await specViolationsOf(
    "services:\n  x:\n    image: a\n    depends_on:\n      y:\n        condition: up\n",
  );
  assert.equal(broken.length, 1, "a depends_on condition that Compose does not know");
  assert.match(broken[0]!, /^invalid-schema: .*\/services\/x\/depends_on/);
  const typo = await specViolationsOf("services:\n  x:\n    imag: a\n");
  assert.equal(typo.length, 1, "a misspelt service key");
  assert.match(typo[0]!, /instancePath="\/services\/x".*must NOT have additional properties/);
  // Keys that newer Compose versions added (a 2021 copy of the schema rejects them).
  const current = "name: p\nservices:\n  x:\n    image: a\n    healthcheck:\n" +
    "      test: [CMD, 'true']\n      start_interval: 1s\n    post_start:\n      - command: 'true'\n";
  assert.deepEqual(await specViolationsOf(current), [], "the schema is not current");
});

Deno.test("every long-running service has a health check and every dependency waits for a condition", () => {
  const oneShot = oneShotServices();
  assert.deepEqual([...oneShot], ["topics"], "the topics job is the only one-shot service");
  assert.equal(service("topics").restart, "no", "a one-shot service must not be restarted");

  for (const [name, s] of Object.entries(compose.services)) {
    if (!oneShot.has(name)) {
      const test = s.healthcheck?.test;
      assert.ok(test && test.length > 0 && test[0] !== "NONE", `${name} has no health check`);
      assert.notEqual(s.healthcheck?.disable, true, `${name} disables its health check`);
      assert.equal(s.restart, "unless-stopped", `${name} must be restarted when it exits`);
    }
    if (s.depends_on === undefined) continue;
    assert.ok(!Array.isArray(s.depends_on), `${name}: depends_on must name a condition`);
    for (const [dep, { condition }] of Object.entries(s.depends_on)) {
      assert.ok(compose.services[dep], `${name} depends on unknown service ${dep}`);
      const expected = oneShot.has(dep) ? "service_completed_successfully" : "service_healthy";
      assert.equal(condition, expected, `${name} must wait for ${dep} with ${expected}`);
    }
  }

  const waitsFor = (name: string) => Object.keys(service(name).depends_on ?? {}).sort();
  assert.deepEqual(waitsFor("ingest"), ["kafka", "topics"]);
  assert.deepEqual(waitsFor("worker"), ["kafka", "topics", "warehouse"]);
  assert.deepEqual(waitsFor("topics"), ["kafka"]);
});

Deno.test("Kafka runs in KRaft mode and the topics job creates both topics with 6 partitions", () => {
  const kafka = service("kafka");
  assert.equal(kafka.image, "apache/kafka:4.1.1", "the same Kafka as the local stack");
  const env = environment(kafka);
  assert.equal(env.KAFKA_PROCESS_ROLES, "broker,controller");
  assert.ok(env.KAFKA_CONTROLLER_QUORUM_VOTERS, "KRaft needs a controller quorum");
  assert.ok(!Object.keys(env).some((k) => k.includes("ZOOKEEPER")), "no ZooKeeper");
  assert.equal(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE, "false");
  assert.match(env.KAFKA_ADVERTISED_LISTENERS ?? "", /PLAINTEXT:\/\/kafka:9092/);

  const topics = service("topics");
  assert.equal(topics.image, kafka.image);
  const script = [topics.entrypoint ?? [], topics.command ?? []].flat().join(" ");
  assert.match(script, /for topic in user_created user_created\.dlq; do/);
  assert.match(script, /--bootstrap-server kafka:9092 --create --if-not-exists/);
  assert.match(script, /--topic "\$\$topic" --partitions 6 /);

  const warehouse = service("warehouse");
  assert.equal(warehouse.image, "postgres:15");
  assert.equal(environment(warehouse).POSTGRES_DB, "user_data");
});

Deno.test("ingest and worker run their deno.json task's exact command on the CI's Deno", async () => {
  const ci = await Deno.readTextFile(new URL(".ci/run", ROOT));
  const denoVersion = /^DENO_VERSION="([^"]+)"/m.exec(ci)?.[1];
  assert.ok(denoVersion, ".ci/run no longer pins DENO_VERSION");
  for (const { name } of PROGRAMS) {
    const s = service(name);
    assert.equal(s.image, `denoland/deno:${denoVersion}`, `${name} must run the Deno CI tests`);
    assert.deepEqual(
      s.command,
      await taskCommand(name),
      `${name}'s command (flags included) must be deno.json's "${name}" task`,
    );
    assert.equal(s.working_dir, "/app");
    assert.ok(
      (s.volumes ?? []).includes(".:/app:ro"),
      `${name} must see the checkout read-only at /app`,
    );
  }
});

Deno.test("ingest and worker get only variables their config schema declares, and all it requires", async () => {
  for (const { name, schema, load } of PROGRAMS) {
    const env = environment(service(name));
    const declared = Object.keys(schema.shape);
    const unknown = Object.keys(env).filter((k) => !declared.includes(k));
    assert.deepEqual(unknown, [], `${name} is given variables its schema does not declare`);

    const required = declared.filter((k) =>
      !(schema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>)[k]!
        .safeParse(undefined).success
    );
    assert.ok(required.includes("KAFKA_BROKERS"), `${name}: the schema no longer requires Kafka?`);
    const missing = required.filter((k) => !(k in env));
    assert.deepEqual(missing, [], `${name} is not given variables its schema requires`);

    // A task that lists the variables it may read (`--allow-env=A,B`) must list every one
    // compose sets, or the program could not read it.
    const allowEnv = (await taskCommand(name)).find((w) => w.startsWith("--allow-env="));
    if (allowEnv) {
      const allowed = allowEnv.slice("--allow-env=".length).split(",");
      const denied = Object.keys(env).filter((k) => !allowed.includes(k));
      assert.deepEqual(denied, [], `${name}'s task does not allow reading these variables`);
    }

    // With .env.example's values (what `cp .env.example .env` gives), the program's own loader
    // accepts the environment: this catches bad values and cross-variable rules too.
    const resolved = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, interpolate(v, envExample)]),
    );
    load((key) => resolved[key]);
  }
});

Deno.test("ingest and worker reach Kafka and the warehouse by service name", async () => {
  for (const { name } of PROGRAMS) {
    assert.equal(environment(service(name)).KAFKA_BROKERS, "kafka:9092", name);
  }
  const worker = environment(service("worker"));
  const url = new URL(interpolate(worker.WAREHOUSE_URL!, { WAREHOUSE_PASSWORD: "pw" }));

  // A task that limits --allow-net to hosts must allow the compose service names too, or the
  // same flags that work on the local stack would lock the containers out.
  const needs = { ingest: ["kafka:9092"], worker: ["kafka:9092", "warehouse:5432"] };
  for (const { name } of PROGRAMS) {
    const allowNet = (await taskCommand(name)).find((w) => w.startsWith("--allow-net="));
    if (!allowNet) continue;
    const allowed = allowNet.slice("--allow-net=".length).split(",");
    for (const hostPort of needs[name]) {
      assert.ok(
        allowed.includes(hostPort) || allowed.includes(hostPort.split(":")[0]!),
        `${name}'s task allows the network only to ${allowed.join(",")}: not to ${hostPort}`,
      );
    }
  }
  assert.equal(
    `${url.protocol}//${url.host}${url.pathname}`,
    "postgres://warehouse:5432/user_data",
  );
  assert.equal(url.username, environment(service("warehouse")).POSTGRES_USER);
  assert.equal(worker.WAREHOUSE_DIALECT, "postgres");
});

Deno.test("ingest publishes INGEST_PORT and the worker WORKER_PORT, and their health checks probe /readyz there", () => {
  const cases = [
    { name: "ingest", variable: "INGEST_PORT", port: "8080", published: true },
    { name: "worker", variable: "WORKER_PORT", port: "9090", published: false },
  ];
  for (const { name, variable, port, published } of cases) {
    const s = service(name);
    const env = environment(s);
    assert.equal(interpolate(env[variable]!, {}), port, `${name}: ${variable} defaults to ${port}`);
    const ports = (s.ports ?? []).map((p) => interpolate(String(p), {}));
    // Without a host port the engine picks one, so that `--scale worker=N` does not collide.
    assert.deepEqual(ports, [published ? `${port}:${port}` : port], `${name} ports`);
    assert.equal(interpolate(env[variable]!, { [variable]: "7000" }), "7000");
    assert.equal(
      interpolate(String(s.ports?.[0]), { [variable]: "7000" }),
      published ? "7000:7000" : "7000",
      `${name} must publish the port ${variable} sets`,
    );
    const probe = [s.healthcheck?.test ?? []].flat().join(" ");
    assert.match(probe, new RegExp(`Deno\\.env\\.get\\("${variable}"\\) \\|\\| "${port}"`));
    assert.match(probe, /"\/readyz"/);
  }
});

Deno.test("compose.yaml bakes in no secret: each comes from .env, which .env.example documents", () => {
  const secretName = /PASSWORD|SECRET|TOKEN|CREDENTIAL|(^|_)KEY$/;
  const requiredRef = /^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}$/;
  for (const [name, s] of Object.entries(compose.services)) {
    for (const [key, value] of Object.entries(environment(s))) {
      if (secretName.test(key)) {
        assert.match(value, requiredRef, `${name}.${key} must be \${VAR:?…} from .env`);
      }
      // A password inside a URL (postgres://user:pw@host) must be interpolated too.
      const userinfo = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:([^/@\s]*)@/i.exec(value);
      if (userinfo) {
        assert.match(userinfo[1]!, requiredRef, `${name}.${key} has a literal password`);
      }
    }
  }
  assert.doesNotMatch(composeText, /whsec_[A-Za-z0-9+/=]{8,}/, "a webhook secret is in the file");

  // Every variable compose insists on (`${VAR:?…}`) is in .env.example, so that
  // `cp .env.example .env` gives a file compose accepts.
  const requiredVars = new Set(
    strings(compose).flatMap(interpolated).filter((v) => v.op === ":?" || v.op === "?")
      .map((v) => v.name),
  );
  assert.ok(requiredVars.has("WAREHOUSE_PASSWORD") && requiredVars.has("WEBHOOK_SECRET"));
  for (const v of requiredVars) {
    assert.ok(v in envExample, `compose.yaml requires ${v} but .env.example does not set it`);
  }
});

Deno.test("interpolate() follows compose's rules", () => {
  const vars = { A: "a", EMPTY: "" };
  assert.equal(interpolate("${A:-x}${EMPTY:-x}${NONE:-x}", vars), "axx");
  assert.equal(interpolate("${EMPTY-x}${NONE-x}", vars), "x");
  assert.equal(interpolate("$${A} ${A}", vars), "${A} a");
  assert.equal(interpolate("${A:+y}${EMPTY:+y}", vars), "y");
  assert.throws(() => interpolate("${EMPTY:?set EMPTY}", vars), /EMPTY: set EMPTY/);
  assert.throws(() => interpolate("${NONE?gone}", vars), /NONE: gone/);
});
