/** The resident set size of a process, for the soak and the fault notes. */

/** Resident set size of `pid` in MiB (`ps -o rss=`), or NaN when it is gone. */
export async function rssMiB(pid: number): Promise<number> {
  const r = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
    stdout: "piped",
  })
    .output();
  const kib = Number(new TextDecoder().decode(r.stdout).trim());
  return r.success && kib > 0 ? Math.round(kib / 102.4) / 10 : Number.NaN;
}
