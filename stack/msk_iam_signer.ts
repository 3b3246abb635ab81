/**
 * AWS's own MSK IAM signer for JavaScript (npm `aws-msk-iam-sasl-signer-js`), run under Node,
 * as the oracle for `shared/aws/msk_iam_token.ts`: the same credentials, region and time must
 * give the same token.
 *
 * - `ensureMskIamSigner()` installs the pinned release once into the stack's cache, with npm
 *   (from the npm registry; about 5 s, 30 MB: it pulls the AWS SDK's credential providers),
 *   into a temporary folder renamed into place, so a concurrent or interrupted install never
 *   leaves a half-made one behind. Later calls only check a marker file. npm runs with
 *   `--ignore-scripts`: nothing of the package runs at install.
 * - `awsMskIamToken()` runs the library's `generateAuthTokenFromCredentialsProvider` in a Node
 *   process with a fixed clock: `Date` is replaced before the library loads, so `new Date()`
 *   (the SigV4 signing time of `@smithy/signature-v4`) and `Date.now()` (its credentials'
 *   remaining lifetime) answer the given time. Credentials come from the caller, not from the
 *   AWS SDK's default chain, and Node runs with a cleared environment: nothing of this machine's
 *   AWS configuration gets in.
 *
 * Only the release is pinned; npm resolves its dependencies' ranges when it installs. The
 * install's `package-lock.json` records what it got.
 */
import { exists, run, StackError } from "./_process.ts";
import { cacheDir } from "./kafka.ts";

/** The pinned release of `aws-msk-iam-sasl-signer-js` (the newest on npm). */
export const MSK_IAM_SIGNER_VERSION = "1.0.3";
const PACKAGE = "aws-msk-iam-sasl-signer-js";

/**
 * Makes sure the signer is installed in the cache; returns the folder that holds its
 * `node_modules`.
 * @throws {StackError} when npm is missing or the install fails.
 */
export async function ensureMskIamSigner(): Promise<string> {
  const home = `${cacheDir()}/${PACKAGE}-${MSK_IAM_SIGNER_VERSION}`;
  if (await exists(`${home}/complete`)) return home;
  const work = `${home}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(work, { recursive: true });
  try {
    const npm = Deno.env.get("NPM") ?? "npm";
    await Deno.writeTextFile(
      `${work}/package.json`,
      JSON.stringify({ name: "msk-iam-signer-oracle", private: true }) + "\n",
    );
    try {
      await run(npm, [
        "install",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--save-exact",
        "--loglevel=error",
        `${PACKAGE}@${MSK_IAM_SIGNER_VERSION}`,
      ], { cwd: work, what: `npm install ${PACKAGE}@${MSK_IAM_SIGNER_VERSION} (from npm)` });
    } catch (err) {
      if (err instanceof StackError && err.message.startsWith("Cannot run")) {
        throw new StackError(
          `Cannot install ${PACKAGE} (the MSK IAM token's oracle): ${npm} is not installed. ` +
            "Install Node.js 18 or later with npm, or set NPM to an npm.",
          { cause: err },
        );
      }
      throw err;
    }
    await Deno.writeTextFile(`${work}/complete`, new Date().toISOString());
    // Node finds node_modules from where it runs, so the folder may move.
    await Deno.rename(work, home).catch(async (err) => {
      if (!(await exists(`${home}/complete`))) throw err; // else another process won the race
    });
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  return home;
}

/** What AWS's signer signs with. */
export interface AwsMskIamTokenInput {
  region: string;
  credentials: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration?: Date;
  };
  /** The clock the library sees. */
  now: Date;
}

/** AWS's signer's answer. */
export interface AwsMskIamToken {
  token: string;
  /** Its `expiryTime`. */
  expiresAt: Date;
}

/**
 * The token AWS's signer makes for `input` (installs it first if needed). A test that calls it
 * is named `*_stack_test.ts`: it needs Node, and npm's registry once; in a unit run
 * (`USER_PIPELINE_UNIT=1`, `deno task test:unit`) it throws instead.
 * @throws {StackError} when Node or npm is missing, or the library fails.
 */
export async function awsMskIamToken(input: AwsMskIamTokenInput): Promise<AwsMskIamToken> {
  if (Deno.env.get("USER_PIPELINE_UNIT") === "1") {
    throw new Error(
      "awsMskIamToken() in a unit run: a test that needs Node and npm is named *_stack_test.ts",
    );
  }
  const home = await ensureMskIamSigner();
  const node = Deno.env.get("NODE") ?? "node";
  const { credentials } = input;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(node, {
      args: ["-e", _SCRIPT],
      cwd: home,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        ORACLE_INPUT: JSON.stringify({
          region: input.region,
          now: input.now.getTime(),
          credentials: {
            ...credentials,
            expiration: credentials.expiration?.getTime(),
          },
        }),
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) {
      throw new StackError(
        `Cannot run ${PACKAGE} (the MSK IAM token's oracle): ${node} is not installed. ` +
          "Install Node.js 18 or later, or set NODE to a node.",
        { cause },
      );
    }
    throw cause;
  }
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new StackError(
      `${PACKAGE} failed (exit ${out.code}): ${new TextDecoder().decode(out.stderr).slice(-2000)}`,
    );
  }
  const answer = JSON.parse(text) as { token: string; expiryTime: number };
  return { token: answer.token, expiresAt: new Date(answer.expiryTime) };
}

/**
 * Node's side: fixes the clock, loads the library, signs, prints `{token, expiryTime}`. The
 * library reads the clock as `new Date()` and `Date.now()`; a subclass answers both with the
 * given time and leaves `new Date(x)`, `Date.UTC` and `Date.parse` as they are.
 */
const _SCRIPT = `
const input = JSON.parse(process.env.ORACLE_INPUT);
const RealDate = Date;
globalThis.Date = class FixedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(input.now);
    else super(...args);
  }
  static now() {
    return input.now;
  }
};
const { generateAuthTokenFromCredentialsProvider } = require("${PACKAGE}");
const { expiration, ...keys } = input.credentials;
generateAuthTokenFromCredentialsProvider({
  region: input.region,
  awsCredentialsProvider: async () => ({
    ...keys,
    ...(expiration === undefined ? {} : { expiration: new RealDate(expiration) }),
  }),
}).then(
  (answer) => process.stdout.write(JSON.stringify(answer)),
  (err) => {
    process.stderr.write(String(err && err.stack || err));
    process.exitCode = 1;
  },
);
`;
