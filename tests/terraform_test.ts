/**
 * Runs the Terraform checks CI relies on: `terraform fmt -check`, `init` (offline, from a local
 * provider mirror), `validate` and `terraform test` (mock_provider: no AWS account, no network).
 *
 * It works on a copy of terraform/ in a temporary directory, with TF_DATA_DIR and the CLI
 * configuration there too, so nothing is written into the checkout. It fails, never skips, when
 * terraform or the AWS provider mirror is missing: a CI that cannot run these must not go green.
 *
 * - `TERRAFORM` names the binary (default: `terraform` on PATH).
 * - `TF_PLUGIN_MIRROR` names the provider mirror (default: /opt/tf-plugins), a directory in
 *   Terraform's filesystem-mirror layout holding registry.terraform.io/hashicorp/aws.
 */
import assert from "node:assert/strict";

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

/**
 * A scratch workspace: the copied configuration, a CLI configuration that installs providers
 * only from the mirror, and an environment in which any network access fails at once.
 */
async function workspace(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "terraform_test_" });
  await copyTree(TERRAFORM_DIR, `${dir}/config`);
  const cliConfig = `${dir}/terraform.rc`;
  // No `direct` block: a provider that is not in the mirror is an error, not a download.
  await Deno.writeTextFile(
    cliConfig,
    `provider_installation {\n  filesystem_mirror {\n    path = ${
      JSON.stringify(MIRROR)
    }\n  }\n}\n`,
  );
  const env = {
    // Terraform keeps per-user files under $HOME: keep them in the scratch directory.
    HOME: dir,
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_DATA_DIR: `${dir}/data`,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    // No version check against checkpoint-api.hashicorp.com.
    CHECKPOINT_DISABLE: "1",
    // Any HTTP(S) request Terraform or the provider might make goes to a closed local port and
    // fails: the checks must pass without network.
    HTTP_PROXY: "http://127.0.0.1:9",
    HTTPS_PROXY: "http://127.0.0.1:9",
    NO_PROXY: "",
    // mock_provider never calls AWS; make sure no real credentials are ever picked up either.
    AWS_ACCESS_KEY_ID: "mock",
    AWS_SECRET_ACCESS_KEY: "mock",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  return { dir, env };
}

async function terraform(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<Result> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(TERRAFORM, {
      args,
      cwd,
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
      stdin: "null",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        `terraform is not installed (looked for "${TERRAFORM}" on PATH): install Terraform >= 1.9 ` +
          `or set TERRAFORM to its path. These checks never skip.`,
        { cause: err },
      );
    }
    throw err;
  }
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

Deno.test("terraform fmt, init (offline, from the mirror), validate and test pass", async (t) => {
  assert.ok(
    await exists(`${MIRROR}/${AWS_PROVIDER}`),
    `The AWS provider mirror is missing: ${MIRROR}/${AWS_PROVIDER} does not exist. Put ` +
      `hashicorp/aws 5.100.x there in Terraform's filesystem-mirror layout (e.g. ` +
      `"terraform providers mirror ${MIRROR}" on a machine with internet) or set ` +
      `TF_PLUGIN_MIRROR. These checks never skip.`,
  );

  const before = await listTree(TERRAFORM_DIR);
  const { dir, env } = await workspace();
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

    await t.step("init installs hashicorp/aws from the mirror only", async () => {
      const init = await terraform(["init", "-backend=false", "-no-color"], config, env);
      assertSuccess("init", init);
      assert.match(init.output, /Installed hashicorp\/aws v5\.100\.\d+/, init.output);
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
