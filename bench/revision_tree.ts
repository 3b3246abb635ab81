/**
 * An older revision of the repository checked out beside it, so that a benchmark runs the
 * programs of both on the same machine and stack in one run (`--baseline REV`).
 *
 * The checkout is a detached `git worktree` in a temporary folder outside the repository;
 * `remove()` deletes it and its worktree entry. Nothing of the working tree is touched.
 */

/** A checked-out revision. */
export interface RevisionTree {
  /** The revision as given (`7ac2f11`, `HEAD~3`). */
  rev: string;
  /** Its abbreviated commit hash. */
  commit: string;
  /** Its commit subject. */
  subject: string;
  /** The folder it is checked out in (the programs' working directory). */
  dir: string;
  /** Removes the worktree and its folder. */
  remove(): Promise<void>;
}

/**
 * Checks `rev` of the repository at `repoRoot` out into a new temporary folder.
 * @throws {Error} when `rev` is not a commit of the repository or git fails.
 */
export async function checkoutRevision(repoRoot: string, rev: string): Promise<RevisionTree> {
  const full = await git(repoRoot, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`])
    .catch(() => {
      throw new Error(`Cannot use --baseline ${rev}: not a commit of ${repoRoot}`);
    });
  const [commit, ...subject] = (await git(repoRoot, ["log", "-1", "--format=%h %s", full]))
    .split(" ");
  const dir = await Deno.makeTempDir({ prefix: `baseline-${commit}-` });
  try {
    await git(repoRoot, ["worktree", "add", "--detach", dir, full]);
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }
  return {
    rev,
    commit: commit!,
    subject: subject.join(" "),
    dir,
    async remove() {
      await git(repoRoot, ["worktree", "remove", "--force", dir]).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await git(repoRoot, ["worktree", "prune"]).catch(() => {});
    },
  };
}

/** The abbreviated commit hash of `root`'s HEAD ("?" when git cannot tell). */
export async function headCommit(root: string): Promise<string> {
  return await git(root, ["rev-parse", "--short", "HEAD"]).catch(() => "?");
}

async function git(cwd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  if (!out.success) {
    throw new Error(`git ${args.join(" ")} failed: ${decoder.decode(out.stderr).trim()}`);
  }
  return decoder.decode(out.stdout).trim();
}
