/**
 * `deno task dev` as a newcomer runs it: through whatever `deno` is first on PATH (npm's wrapper,
 * a symlink), on 127.0.0.1, signed with the development secret it keeps, and a failed start
 * that stops what it started.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { parseEnvFile } from "../stack/dev_env.ts";
import { sharedStack, uniqueName } from "../stack/harness.ts";
import { ROOT, stackDir, stackStatus } from "../stack/stack.ts";
import { testKafka } from "../testing/kafka.ts";
import { sampleUser } from "../testing/users.ts";
import { waitUntil } from "../testing/wait.ts";
import { signedRequest } from "../testing/webhook.ts";

/** A `deno` for PATH: a symlink to this binary, or a script that runs it (like npm's wrapper). */
async function fakeDenoOnPath(kind: "symlink" | "wrapper"): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: `dev_test_${kind}_` });
  if (kind === "symlink") {
    await Deno.symlink(Deno.execPath(), `${dir}/deno`);
  } else {
    await Deno.writeTextFile(`${dir}/deno`, `#!/bin/sh\nexec '${Deno.execPath()}' "$@"\n`);
    await Deno.chmod(`${dir}/deno`, 0o755);
  }
  return dir;
}

interface Dev {
  child: Deno.ChildProcess;
  /** Everything printed so far, both streams. */
  output(): string;
  status: Promise<Deno.CommandStatus>;
}

function startDev(pathDir: string, env: Record<string, string>, args: string[] = []): Dev {
  const child = new Deno.Command(`${pathDir}/deno`, {
    args: ["task", "dev", ...args],
    cwd: ROOT,
    env: { ...env, PATH: `${pathDir}:${Deno.env.get("PATH")}`, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = pumped.then(() => child.status);
  return { child, output: () => text, status };
}

function bannerPort(output: string, what: "ingest" | "worker" | "console"): number {
  const match = output.match(new RegExp(`${what}: http://127\\.0\\.0\\.1:(\\d+)/`));
  assert.ok(match, `dev printed no ${what} address:\n${output}`);
  return Number(match[1]);
}

for (const kind of ["symlink", "wrapper"] as const) {
  Deno.test(`deno task dev runs the pipeline on 127.0.0.1 with deno on PATH as a ${kind}, signed with the secret it keeps`, async () => {
    const stack = await sharedStack();
    const pathDir = await fakeDenoOnPath(kind);
    const schema = uniqueName("dev");
    // Topics of its own: a new group reads the stack's shared topic from its start, and that
    // topic holds whatever other runs (benchmarks, load) left there.
    const kafka = testKafka(stack.KAFKA_BROKERS);
    const topic = uniqueName("dev_topic");
    await kafka.createTopics([topic, `${topic}.dlq`], 3);
    const dev = startDev(pathDir, {
      INGEST_PORT: "0",
      WORKER_PORT: "0",
      CONSOLE_PORT: "0",
      PULL_ENABLED: "false",
      KAFKA_GROUP_ID: uniqueName("dev_group"),
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      WAREHOUSE_SCHEMA: schema,
    });
    const sql = postgres(stack.WAREHOUSE_URL, { max: 1, onnotice: () => {} });
    try {
      await waitUntil(() => dev.output().includes("Ctrl-C stops"), 60_000, "the dev banner");
      const out = dev.output();
      const ingestPort = bannerPort(out, "ingest");
      bannerPort(out, "worker");
      const consolePage = await fetch(`http://127.0.0.1:${bannerPort(out, "console")}/`);
      assert.equal(consolePage.status, 200, "the console answers at the URL dev prints");
      assert.match(await consolePage.text(), /<title>user-pipeline console<\/title>/);
      assert.match(out, /"hostname":"127\.0\.0\.1"/, "the ingest listens on loopback only");
      const secret = parseEnvFile(await Deno.readTextFile(`${stackDir("local")}/dev.env`))
        .WEBHOOK_SECRET;
      assert.ok(secret?.startsWith("whsec_"), "dev.env holds the signing secret");
      assert.ok(!out.includes(secret!), "the banner does not print the secret");
      assert.ok(
        out.includes(`the secret is WEBHOOK_SECRET in ${stackDir("local")}/dev.env`),
        "the banner says where it is kept",
      );

      const user = sampleUser();
      const url = `http://127.0.0.1:${ingestPort}/v1/users`;
      const unsigned = await fetch(url, {
        method: "POST",
        body: JSON.stringify(user),
        headers: { "content-type": "application/json" },
      });
      assert.equal(unsigned.status, 401, await unsigned.text());
      const wrong = await signedRequest(JSON.stringify(user));
      const refused = await fetch(url, {
        method: "POST",
        headers: wrong.headers,
        body: wrong.body,
      });
      assert.equal(refused.status, 401, "a signature by another secret is refused");
      await refused.body?.cancel();

      const signed = await signedRequest(JSON.stringify(user), { secret });
      const accepted = await fetch(url, {
        method: "POST",
        headers: signed.headers,
        body: signed.body,
      });
      assert.equal(accepted.status, 202, await accepted.text());
      await waitUntil(
        async () => {
          const rows = await sql`
          select 1 from information_schema.tables where table_schema = ${schema}`;
          if (rows.length === 0) return false;
          return (await sql`select id from ${sql(schema)}.users where id = ${user.id}`).length ===
            1;
        },
        30_000,
        "the row in the warehouse",
      );

      dev.child.kill("SIGINT");
      const status = await dev.status;
      assert.equal(status.code, 0, `dev exits 0 on Ctrl-C:\n${dev.output().slice(-2000)}`);
      assert.ok(
        (await stackStatus("local")).some((l) => /kafka node 1: running/.test(l)),
        "Ctrl-C leaves Kafka running",
      );
    } finally {
      try {
        dev.child.kill("SIGTERM");
      } catch { /* exited */ }
      await dev.status;
      await sql.unsafe(`drop schema if exists "${schema}" cascade`);
      await sql.end();
      await kafka.deleteTopics([topic, `${topic}.dlq`]);
      await Deno.remove(pathDir, { recursive: true });
    }
  });
}

Deno.test("deno task dev that fails to start stops the programs and the stack it started, and exits 1", async () => {
  const name = uniqueName("devfail");
  const pathDir = await fakeDenoOnPath("wrapper");
  // A bad worker setting: the ingest starts, the worker exits 1 at once.
  const dev = startDev(pathDir, {
    INGEST_PORT: "0",
    WORKER_PORT: "0",
    CONSOLE_PORT: "0",
    PULL_ENABLED: "false",
    WORKER_FLUSH_ROWS: "many",
  }, ["--name", name]);
  try {
    const status = await dev.status;
    const out = dev.output();
    assert.equal(status.code, 1, out.slice(-2000));
    assert.match(out, /WORKER_FLUSH_ROWS/, "the worker's error names the variable");
    assert.match(out, /dev: worker exited with code 2 before the pipeline listened/);
    assert.match(out, new RegExp(`stopping the stack "${name}" this run started`));
    const lines = await stackStatus(name);
    assert.ok(
      lines.filter((l) => /: (running|stopped) pid/.test(l)).every((l) => l.includes("stopped")),
      `every part of the stack is stopped:\n${lines.join("\n")}`,
    );
  } finally {
    const down = new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "stack", "down", "--purge", "--name", name],
      cwd: ROOT,
      stdout: "null",
      stderr: "null",
    });
    await down.output();
    await Deno.remove(pathDir, { recursive: true });
  }
});

Deno.test("deno task dev that fails to start leaves a stack that was already running alone", async () => {
  await sharedStack();
  const pathDir = await fakeDenoOnPath("symlink");
  const dev = startDev(pathDir, {
    INGEST_PORT: "0",
    WORKER_PORT: "0",
    CONSOLE_PORT: "0",
    PULL_ENABLED: "false",
    WORKER_FLUSH_ROWS: "many",
  });
  try {
    const status = await dev.status;
    assert.equal(status.code, 1, dev.output().slice(-2000));
    assert.doesNotMatch(dev.output(), /stopping the stack/);
    const lines = await stackStatus("local");
    assert.ok(lines.some((l) => /postgres: running/.test(l)), lines.join("\n"));
  } finally {
    await Deno.remove(pathDir, { recursive: true });
  }
});
