/**
 * Where tests/terraform_stack_test.ts gets the AWS provider for `terraform init`: the local filesystem
 * mirror when there is one (CI machines are offline), else the public registry. When neither can
 * work, or there is no terraform at all, the test fails with one line that says what to do: it
 * never skips.
 */

/** The registry's service discovery document: small, and served wherever the registry is. */
export const REGISTRY_URL = "https://registry.terraform.io/.well-known/terraform.json";

/** What the test found on this machine. */
export interface ProviderFacts {
  /** `terraform version` ran. */
  terraformFound: boolean;
  /** The mirror holds `registry.terraform.io/hashicorp/aws`. */
  mirrorExists: boolean;
  /** The registry answered; only asked when terraform runs and there is no mirror. */
  registryReachable: boolean;
}

/** The names the failure lines mention: the terraform binary and the mirror's folder. */
export interface ProviderNames {
  terraform: string;
  mirror: string;
}

/** Where `terraform init` installs providers from, or why it cannot. */
export type ProviderSource =
  | { kind: "mirror" }
  | { kind: "registry" }
  | { kind: "unavailable"; reason: string };

/**
 * Picks the provider source: no terraform is a failure; the mirror wins when present (no
 * network needed); the registry when it answers; otherwise a failure naming both ways out.
 *
 * @example
 * ```ts
 * chooseProviderSource(
 *   { terraformFound: true, mirrorExists: false, registryReachable: true },
 *   { terraform: "terraform", mirror: "/opt/tf-plugins" },
 * ); // { kind: "registry" }
 * ```
 */
export function chooseProviderSource(facts: ProviderFacts, names: ProviderNames): ProviderSource {
  if (!facts.terraformFound) {
    return {
      kind: "unavailable",
      reason: `terraform is not installed (looked for "${names.terraform}" on PATH): install ` +
        `Terraform >= 1.9 (https://developer.hashicorp.com/terraform/install) or set TERRAFORM ` +
        `to its path. These checks never skip.`,
    };
  }
  if (facts.mirrorExists) return { kind: "mirror" };
  if (facts.registryReachable) return { kind: "registry" };
  return {
    kind: "unavailable",
    reason: `Cannot install hashicorp/aws: no provider mirror at ${names.mirror} and ` +
      `registry.terraform.io is unreachable. Connect to the internet, or make the mirror with ` +
      `"terraform providers mirror ${names.mirror}" where there is internet (or set ` +
      `TF_PLUGIN_MIRROR). These checks never skip.`,
  };
}

/**
 * The Terraform CLI configuration for a source: the mirror alone (no `direct` block, so a
 * provider missing from it is an error, not a download), or the registry with a plugin cache
 * so that the provider is downloaded once, not on every run.
 */
export function cliConfig(
  source: "mirror" | "registry",
  dirs: { mirror: string; pluginCache: string },
): string {
  if (source === "mirror") {
    return `provider_installation {\n  filesystem_mirror {\n    path = ${
      JSON.stringify(dirs.mirror)
    }\n  }\n}\n`;
  }
  return `plugin_cache_dir = ${
    JSON.stringify(dirs.pluginCache)
  }\n\nprovider_installation {\n  direct {}\n}\n`;
}

/**
 * True when `url` answers with a 2xx within `timeoutMs`. The test task allows the network only to
 * loopback, so a child Deno allowed only `url`'s host asks; it uses the proxy variables of this
 * environment, as terraform would.
 */
export async function registryReachable(
  url = REGISTRY_URL,
  timeoutMs = 5_000,
): Promise<boolean> {
  const { host } = new URL(url);
  const script = `const res = await fetch(${JSON.stringify(url)}, {
    signal: AbortSignal.timeout(${timeoutMs}),
  }).catch(() => undefined);
  await res?.body?.cancel();
  Deno.exit(res?.ok ? 0 : 1);`;
  // Loopback never goes through a proxy: the unit test asks a local server.
  const noProxy = [Deno.env.get("NO_PROXY"), "127.0.0.1,localhost"].filter(Boolean).join(",");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--quiet", `--allow-net=${host}`, "-"],
    env: { NO_PROXY: noProxy },
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  // The child's own timeout should end it; this one is for a child that hangs anyway.
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 5_000);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(script));
    await writer.close();
    return (await child.status).success;
  } finally {
    clearTimeout(timer);
  }
}
