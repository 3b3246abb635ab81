/**
 * What one process sends to one port over TCP, from the kernel's counters (`ss -tinp`): bytes
 * and data segments sent on every established connection of `pid` to `port`. A Kafka client
 * writes each request in one go, and on loopback a small request is one segment, so the data
 * segments a client sent to the broker count its requests closely enough to compare two runs
 * of the same client (connections closed between two readings are not counted).
 */

/** Counters summed over the matching connections. */
export interface SocketCounters {
  connections: number;
  bytesSent: number;
  dataSegmentsOut: number;
}

/**
 * Sums the counters of `ss -tinpH` output (with or without the state column) for the connections of `pid` whose peer port is
 * `port`. Each connection is a line with the addresses and `users:((…pid=N…))`, followed by an
 * indented line of counters.
 */
export function parseSocketCounters(text: string, pid: number, port: number): SocketCounters {
  const out: SocketCounters = { connections: 0, bytesSent: 0, dataSegmentsOut: 0 };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s/.test(line) || !line.includes(`pid=${pid},`)) continue;
    const columns = line.trim().split(/\s+/);
    // … local address, peer address, process (`users:(…)`).
    const peer = columns[columns.findIndex((c) => c.startsWith("users:")) - 1] ?? "";
    if (peer.slice(peer.lastIndexOf(":") + 1) !== String(port)) continue;
    const info = lines[i + 1] ?? "";
    if (!/^\s/.test(info)) continue;
    out.connections++;
    out.bytesSent += Number(/\bbytes_sent:(\d+)/.exec(info)?.[1] ?? 0);
    out.dataSegmentsOut += Number(/\bdata_segs_out:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return out;
}

/** The counters of `pid`'s connections to `port` now (runs `ss`). */
export async function socketCounters(pid: number, port: number): Promise<SocketCounters> {
  const out = await new Deno.Command("ss", {
    args: ["-tinpH", `( dport = :${port} )`],
    stdout: "piped",
    stderr: "null",
  }).output();
  return parseSocketCounters(new TextDecoder().decode(out.stdout), pid, port);
}
