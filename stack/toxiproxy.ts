/**
 * Toxiproxy (Shopify's TCP fault proxy) for the fault suite: built once from the Go module proxy
 * into the same cache as the Kafka jars, run as one server per stack, and driven over its HTTP
 * API. A proxy sits on one network path (a program → one broker, a program → PostgreSQL), so a
 * scenario can blackhole, slow or reset that path alone, on loopback, without root.
 *
 * ```ts
 * declare const port: number;
 *
 * const net = toxiproxyApi(port);
 * await net.createProxy("worker-postgres", 41001, 5432);
 * await net.addToxic("worker-postgres", { type: "timeout", attributes: { timeout: 0 } });
 * await net.removeToxics("worker-postgres");
 * ```
 */
import { exists, isListening, run, spawnDetached, StackError, waitFor } from "./_process.ts";
import { cacheDir } from "./kafka.ts";

/** The pinned Toxiproxy release (the newest the Go module proxy serves). */
export const TOXIPROXY_VERSION = "2.5.0";
const MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server";

/**
 * Makes sure the Toxiproxy server binary is in the cache and returns its path. The first call
 * runs `go install` (about 30 s; modules from the Go module proxy); later calls only check the
 * file.
 * @throws {StackError} when Go is missing or the build fails.
 */
export async function ensureToxiproxy(): Promise<string> {
  const home = `${cacheDir()}/toxiproxy-${TOXIPROXY_VERSION}`;
  const bin = `${home}/toxiproxy-server`;
  if (await exists(bin)) return bin;
  const work = `${home}.tmp-${Deno.pid}`;
  await Deno.remove(work, { recursive: true }).catch(() => {});
  await Deno.mkdir(work, { recursive: true });
  try {
    await run("go", ["install", `${MODULE}@v${TOXIPROXY_VERSION}`], {
      env: { GOBIN: work, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" },
      what: `go install of Toxiproxy ${TOXIPROXY_VERSION}`,
    });
    await Deno.rename(`${work}/server`, `${work}/toxiproxy-server`);
    await Deno.remove(home, { recursive: true }).catch(() => {});
    await Deno.rename(work, home);
  } catch (err) {
    await Deno.remove(work, { recursive: true }).catch(() => {});
    if (err instanceof StackError && err.message.startsWith("Cannot run go")) {
      throw new StackError(
        `Cannot build Toxiproxy ${TOXIPROXY_VERSION} for the network faults: Go is not ` +
          `installed (go not on PATH). Install Go 1.22 or later.`,
        { cause: err },
      );
    }
    throw err;
  }
  return bin;
}

/** Starts a Toxiproxy server with its API on 127.0.0.1:`port`; returns its pid once it listens. */
export async function startToxiproxy(dir: string, port: number): Promise<number> {
  const bin = await ensureToxiproxy();
  await Deno.mkdir(dir, { recursive: true });
  const pid = await spawnDetached(
    bin,
    ["-host", "127.0.0.1", "-port", String(port)],
    `${dir}/toxiproxy.log`,
  );
  if (!(await waitFor(() => isListening(port), 10_000))) {
    throw new StackError(
      `Toxiproxy did not listen on ${port} within 10 s (see ${dir}/toxiproxy.log)`,
    );
  }
  return pid;
}

/**
 * A toxic, as Toxiproxy's API takes it. The ones the suite uses:
 * - `timeout` with `timeout: 0`: a blackhole; bytes are taken and dropped, nothing answers,
 *   nothing is closed (a connection opened meanwhile is accepted and stays silent);
 * - `latency` (`latency`, `jitter` in ms) on every chunk;
 * - `bandwidth` (`rate` in KB/s);
 * - `reset_peer` (`timeout` in ms): connections are reset (RST) after the timeout.
 */
export interface Toxic {
  type: "timeout" | "latency" | "bandwidth" | "reset_peer" | "slow_close" | "limit_data";
  /** `upstream` is client → server, `downstream` server → client (default). */
  stream?: "upstream" | "downstream";
  attributes: Record<string, number>;
  /** Unique per proxy; defaults to `<type>_<stream>`. */
  name?: string;
  /** The share of connections it applies to, 0..1 (default 1). */
  toxicity?: number;
}

/** The calls the fault suite makes on a Toxiproxy server. */
export interface ToxiproxyApi {
  /** Creates (or replaces) the proxy `name` from 127.0.0.1:`listen` to 127.0.0.1:`upstream`. */
  createProxy(name: string, listen: number, upstream: number): Promise<void>;
  addToxic(proxy: string, toxic: Toxic): Promise<void>;
  /** Removes every toxic of `proxy`. */
  removeToxics(proxy: string): Promise<void>;
  /** A disabled proxy closes its connections and refuses new ones; enabling listens again. */
  setEnabled(proxy: string, enabled: boolean): Promise<void>;
  /** Every proxy enabled and without toxics. */
  resetAll(): Promise<void>;
}

/** The API of the Toxiproxy server on 127.0.0.1:`port`. */
export function toxiproxyApi(port: number): ToxiproxyApi {
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new StackError(`Toxiproxy ${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    async createProxy(name, listen, upstream) {
      await call("DELETE", `/proxies/${name}`).catch(() => {});
      await call("POST", "/proxies", {
        name,
        listen: `127.0.0.1:${listen}`,
        upstream: `127.0.0.1:${upstream}`,
        enabled: true,
      });
    },
    async addToxic(proxy, toxic) {
      const stream = toxic.stream ?? "downstream";
      await call("POST", `/proxies/${proxy}/toxics`, {
        name: toxic.name ?? `${toxic.type}_${stream}`,
        type: toxic.type,
        stream,
        toxicity: toxic.toxicity ?? 1,
        attributes: toxic.attributes,
      });
    },
    async removeToxics(proxy) {
      const toxics = (await call("GET", `/proxies/${proxy}/toxics`)) as { name: string }[];
      for (const t of toxics) await call("DELETE", `/proxies/${proxy}/toxics/${t.name}`);
    },
    async setEnabled(proxy, enabled) {
      await call("POST", `/proxies/${proxy}`, { enabled });
    },
    async resetAll() {
      await call("POST", "/reset");
    },
  };
}
