/**
 * Runs the Terraform checks CI relies on: `terraform fmt -check`, `init` (from a local provider
 * mirror when there is one, else from the registry), `validate` and `terraform test`
 * (mock_provider: no AWS account, no network).
 *
 * It works on a copy of terraform/ in a temporary directory, with TF_DATA_DIR and the CLI
 * configuration there too, so nothing is written into the checkout. It fails, never skips, when
 * there is no terraform, or neither the mirror nor the registry: a CI that cannot run these must
 * not go green. Only `init` from the registry may use the network.
 *
 * - `TERRAFORM` names the binary (default: `terraform` on PATH).
 * - `TF_PLUGIN_MIRROR` names the provider mirror (default: /opt/tf-plugins), a directory in
 *   Terraform's filesystem-mirror layout holding registry.terraform.io/hashicorp/aws.
 * - From the registry, the provider is cached in `~/.cache/user-pipeline/terraform-plugins` (or
 *   under `$STACK_CACHE_DIR`), so it is downloaded once.
 */
import assert from "node:assert/strict";
import { cacheDir } from "../stack/kafka.ts";
import {
  chooseProviderSource,
  cliConfig,
  type ProviderFacts,
  registryReachable,
} from "./_provider_source.ts";

const TERRAFORM_DIR = new URL("../terraform/", import.meta.url).pathname;
const TERRAFORM = Deno.env.get("TERRAFORM") ?? "terraform";
const MIRROR = Deno.env.get("TF_PLUGIN_MIRROR") ?? "/opt/tf-plugins";
const AWS_PROVIDER = "registry.terraform.io/hashicorp/aws";

/** Entries that a local `terraform init` may leave in terraform/; never copied, never tested. */
const LOCAL_STATE = /^(\.terraform|\.terraform\.lock\.hcl|terraform\.tfstate.*|.*\.tfplan)$/;

type Result = { code: number; output: string };

/** Copies a directory tree, leaving out Terraform's local working files. */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (LOCAL_STATE.test(entry.name)) continue;
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** The names under a directory, recursively, sorted: to prove a run wrote nothing there. */
async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    names.push(`${prefix}${entry.name}`);
    if (entry.isDirectory) {
      names.push(...await listTree(`${dir}/${entry.name}`, `${prefix}${entry.name}/`));
    }
  }
  return names.sort();
}

/** The `run` blocks of the *.tftest.hcl files in a directory: how many tests must pass. */
async function countRunBlocks(dir: string): Promise<number> {
  let count = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".tftest.hcl")) continue;
    count += (await Deno.readTextFile(`${dir}/${entry.name}`)).match(/^run "/gm)?.length ?? 0;
  }
  assert.ok(count > 0, `no terraform test in ${dir}`);
  return count;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** The proxy and CA variables terraform needs to reach the registry, from this environment. */
const NETWORK_VARS = [
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
];

/**
 * A scratch workspace: the copied configuration, a CLI configuration that installs providers
 * only from the given source, an environment in which any network access fails at once
 * (`env`), and the one `init` uses (`initEnv`: the same, with this environment's network
 * settings when the source is the registry).
 */
async function workspace(
  source: "mirror" | "registry",
): Promise<{ dir: string; env: Record<string, string>; initEnv: Record<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "terraform_test_" });
  await copyTree(TERRAFORM_DIR, `${dir}/config`);
  const cliConfigFile = `${dir}/terraform.rc`;
  const pluginCache = `${cacheDir()}/terraform-plugins`;
  if (source === "registry") await Deno.mkdir(pluginCache, { recursive: true });
  await Deno.writeTextFile(cliConfigFile, cliConfig(source, { mirror: MIRROR, pluginCache }));
  const base = {
    // Terraform keeps per-user files under $HOME: keep them in the scratch directory.
    HOME: dir,
    TF_CLI_CONFIG_FILE: cliConfigFile,
    TF_DATA_DIR: `${dir}/data`,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    // No version check against checkpoint-api.hashicorp.com.
    CHECKPOINT_DISABLE: "1",
    // mock_provider never calls AWS; make sure no real credentials are ever picked up either.
    AWS_ACCESS_KEY_ID: "mock",
    AWS_SECRET_ACCESS_KEY: "mock",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  // Any HTTP(S) request Terraform or the provider might make goes to a closed local port and
  // fails: the checks must pass without network.
  const env = {
    ...base,
    HTTP_PROXY: "http://127.0.0.1:9",
    HTTPS_PROXY: "http://127.0.0.1:9",
    NO_PROXY: "",
  };
  if (source === "mirror") return { dir, env, initEnv: env };
  const network = NETWORK_VARS.flatMap((name) => {
    const value = Deno.env.get(name);
    return value === undefined ? [] : [[name, value] as const];
  });
  return { dir, env, initEnv: { ...base, ...Object.fromEntries(network) } };
}

/** Runs terraform; throws Deno.errors.NotFound when there is no such binary. */
async function terraform(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<Result> {
  const out = await new Deno.Command(TERRAFORM, {
    args,
    cwd,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

function assertSuccess(step: string, result: Result): void {
  assert.equal(result.code, 0, `terraform ${step} failed (exit ${result.code}):\n${result.output}`);
}

Deno.test("no Terraform variable or argument carries a warehouse password", async () => {
  let checked = 0;
  for await (const entry of Deno.readDir(TERRAFORM_DIR)) {
    if (!entry.isFile || !entry.name.endsWith(".tf")) continue;
    const text = await Deno.readTextFile(`${TERRAFORM_DIR}${entry.name}`);
    checked++;
    const variables = [...text.matchAll(/^variable "([^"]+)"/gm)].map((m) => m[1]!);
    assert.deepEqual(
      variables.filter((v) => /password|secret|credential/i.test(v)),
      [],
      `${entry.name}: a password belongs in Secrets Manager, not in a variable`,
    );
    // The plain-text and write-only password arguments of the cluster and the namespace.
    assert.doesNotMatch(
      text,
      /^\s*(master_password|master_password_wo|admin_user_password|admin_user_password_wo)\s*=/m,
      `${entry.name} sets a password argument: use manage_master_password/manage_admin_password`,
    );
  }
  assert.ok(checked >= 4, `only ${checked} .tf files found in ${TERRAFORM_DIR}`);
});

/** True when the terraform binary runs (`terraform version`, no configuration needed). */
async function terraformFound(): Promise<boolean> {
  try {
    await terraform(["version"], Deno.cwd(), { CHECKPOINT_DISABLE: "1" });
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

Deno.test("terraform fmt, init (from the mirror, else the registry), validate and test pass", async (t) => {
  const found = await terraformFound();
  const mirrorExists = await exists(`${MIRROR}/${AWS_PROVIDER}`);
  const facts: ProviderFacts = {
    terraformFound: found,
    mirrorExists,
    // Asked only when it decides: an offline machine with a mirror never waits for it.
    registryReachable: found && !mirrorExists && await registryReachable(),
  };
  const source = chooseProviderSource(facts, { terraform: TERRAFORM, mirror: MIRROR });
  if (source.kind === "unavailable") assert.fail(source.reason);

  const before = await listTree(TERRAFORM_DIR);
  const { dir, env, initEnv } = await workspace(source.kind);
  const config = `${dir}/config`;
  try {
    const version = await terraform(["version"], config, env);
    assertSuccess("version", version);

    await t.step("fmt -check -recursive", async () => {
      const fmt = await terraform(
        ["fmt", "-check", "-recursive", "-diff", "-no-color"],
        config,
        env,
      );
      assertSuccess("fmt -check (run `terraform fmt -recursive terraform/`)", fmt);
    });

    await t.step(`init installs hashicorp/aws from the ${source.kind} only`, async () => {
      const init = await terraform(["init", "-backend=false", "-no-color"], config, initEnv);
      assertSuccess(`init (providers from the ${source.kind})`, init);
      // From the registry's plugin cache, a second run says "Using … from the shared cache".
      const installed = source.kind === "mirror"
        ? /Installed hashicorp\/aws v5\.100\.\d+/
        : /(Installed|Using) hashicorp\/aws v5\.100\.\d+/;
      assert.match(init.output, installed, init.output);
    });

    await t.step("validate", async () => {
      assertSuccess("validate", await terraform(["validate", "-no-color"], config, env));
    });

    await t.step("test (mock_provider)", async () => {
      const test = await terraform(["test", "-no-color"], config, env);
      assertSuccess("test", test);
      const summary = /Success! (\d+) passed, 0 failed\./.exec(test.output);
      assert.ok(summary, `no success summary in:\n${test.output}`);
      const declared = await countRunBlocks(`${TERRAFORM_DIR}tests`);
      assert.equal(Number(summary[1]), declared, `not every run block passed:\n${test.output}`);
      assert.doesNotMatch(
        test.output,
        /\.\.\. skip/,
        `a terraform test was skipped:\n${test.output}`,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(await listTree(TERRAFORM_DIR), before, "the run wrote into terraform/");
});

const NAMES = { terraform: "tf-bin", mirror: "/srv/mirror" };
const BOOLS = [false, true];

Deno.test("chooseProviderSource() without terraform says how to get it, whatever else is there", () => {
  for (const mirrorExists of BOOLS) {
    for (const registryReachable of BOOLS) {
      const source = chooseProviderSource(
        { terraformFound: false, mirrorExists, registryReachable },
        NAMES,
      );
      assert.equal(source.kind, "unavailable");
      assert.match(
        source.kind === "unavailable" ? source.reason : "",
        /^terraform is not installed \(looked for "tf-bin" on PATH\): install Terraform >= 1\.9 \(https:\/\/developer\.hashicorp\.com\/terraform\/install\) or set TERRAFORM to its path\. These checks never skip\.$/,
      );
    }
  }
});

Deno.test("chooseProviderSource() takes the mirror when there is one, without the registry", () => {
  for (const registryReachable of BOOLS) {
    assert.deepEqual(
      chooseProviderSource({ terraformFound: true, mirrorExists: true, registryReachable }, NAMES),
      { kind: "mirror" },
    );
  }
});

Deno.test("chooseProviderSource() takes the registry when there is no mirror and it answers", () => {
  assert.deepEqual(
    chooseProviderSource(
      { terraformFound: true, mirrorExists: false, registryReachable: true },
      NAMES,
    ),
    { kind: "registry" },
  );
});

Deno.test("chooseProviderSource() fails with one line naming both ways out when neither works", () => {
  assert.deepEqual(
    chooseProviderSource(
      { terraformFound: true, mirrorExists: false, registryReachable: false },
      NAMES,
    ),
    {
      kind: "unavailable",
      reason: "Cannot install hashicorp/aws: no provider mirror at /srv/mirror and " +
        "registry.terraform.io is unreachable. Connect to the internet, or make the mirror with " +
        '"terraform providers mirror /srv/mirror" where there is internet (or set ' +
        "TF_PLUGIN_MIRROR). These checks never skip.",
    },
  );
});

Deno.test("cliConfig() installs from the mirror alone, or from the registry through a plugin cache", () => {
  const dirs = { mirror: "/srv/mirror", pluginCache: "/cache/plugins" };
  assert.equal(
    cliConfig("mirror", dirs),
    'provider_installation {\n  filesystem_mirror {\n    path = "/srv/mirror"\n  }\n}\n',
  );
  assert.equal(
    cliConfig("registry", dirs),
    'plugin_cache_dir = "/cache/plugins"\n\nprovider_installation {\n  direct {}\n}\n',
  );
});

Deno.test("registryReachable() is true for a server that answers, false within its timeout otherwise", async () => {
  const answering = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("{}"),
  );
  // Accepts connections and never answers: the probe must give up after its timeout.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn);
  })();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  try {
    assert.equal(await registryReachable(`http://127.0.0.1:${answering.addr.port}/`, 2_000), true);
    assert.equal(await registryReachable(`http://127.0.0.1:${closedPort}/`, 2_000), false);
    const started = performance.now();
    const silentPort = (silent.addr as Deno.NetAddr).port;
    assert.equal(await registryReachable(`http://127.0.0.1:${silentPort}/`, 500), false);
    const ms = performance.now() - started;
    assert.ok(ms < 4_000, `a silent registry held the probe for ${Math.round(ms)} ms`);
  } finally {
    await answering.shutdown();
    silent.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});
