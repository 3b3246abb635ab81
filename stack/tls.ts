/**
 * Certificates for the stack's SASL_SSL listener, made with the JDK's `keytool` only (the JDK is
 * already needed for Kafka; no openssl, no download):
 *
 * - `tls/ca.p12` and `tls/ca.pem`: a private CA (RSA 2048, 10 years), its certificate as PEM for
 *   the clients (`KAFKA_SSL_CA_FILE`).
 * - `tls/broker.p12`: the brokers' key and certificate signed by that CA (SAN `DNS:localhost`,
 *   `IP:127.0.0.1`), with the chain, as the PKCS12 keystore Kafka reads.
 * - `tls/other-ca.pem`: an unrelated CA that signed nothing, for tests that expect a client to
 *   refuse the broker.
 *
 * Each file is made only when it is missing, so a restarted stack keeps its certificates; a new
 * CA also means a new broker certificate. Files are written under a temporary name and renamed,
 * so a failed `keytool` leaves nothing half-made. The store password reaches `keytool` through
 * its environment (`-storepass:env`), never its command line.
 */
import { exists, run, StackError } from "./_process.ts";

/** Validity of the broker certificate, in days (the CA's is a little longer, so it outlives it). */
export const CERT_VALIDITY_DAYS = 3650;
const SAN = "SAN=dns:localhost,ip:127.0.0.1";
const PASS_VAR = "STACK_TLS_STORE_PASSWORD";

/** The TLS files of one stack. */
export interface TlsFiles {
  /** The folder that holds them (`.stack/<name>/tls`). */
  dir: string;
  /** PEM certificate of the CA that signed the broker certificate. */
  caPem: string;
  /** PEM certificate of an unrelated CA, which did not sign the broker certificate. */
  otherCaPem: string;
  /** PKCS12 keystore with the broker key and certificate chain (password: the store password). */
  keystore: string;
}

/** The paths of the TLS files in `dir`, whether or not they exist yet. */
export function tlsFiles(dir: string): TlsFiles {
  return {
    dir,
    caPem: `${dir}/ca.pem`,
    otherCaPem: `${dir}/other-ca.pem`,
    keystore: `${dir}/broker.p12`,
  };
}

/**
 * Makes the CA, the broker keystore and the unrelated CA in `dir` where they are missing.
 * `password` protects the PKCS12 stores; it must be the same on every call for a folder.
 * @throws {StackError} when `keytool` is missing or fails.
 */
export async function ensureTls(dir: string, password: string): Promise<TlsFiles> {
  const files = tlsFiles(dir);
  const caStore = `${dir}/ca.p12`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.chmod(dir, 0o700); // it holds private keys
  const keytool: Keytool = (command, flags) =>
    run("keytool", [command, ...toArgs(flags), "-storepass:env", PASS_VAR], {
      env: { [PASS_VAR]: password },
      what: `keytool ${command}`,
    });

  const caAndBroker = async () => {
    if (!(await exists(caStore)) || !(await exists(files.caPem))) {
      await Deno.remove(files.keystore).catch(() => {}); // it was signed by the old CA
      await withTemp(
        [caStore, files.caPem],
        ([store, pem]) => makeCa(keytool, store!, pem!, "CN=user-pipeline local stack CA"),
      );
    }
    if (!(await exists(files.keystore))) {
      await withTemp(
        [files.keystore],
        ([store]) => makeBrokerKeystore(keytool, { caStore, caPem: files.caPem, store: store! }),
      );
    }
  };
  const otherCa = async () => {
    if (await exists(files.otherCaPem)) return;
    const store = `${dir}/other-ca.tmp.p12`;
    try {
      await withTemp(
        [files.otherCaPem],
        ([pem]) => makeCa(keytool, store, pem!, "CN=unrelated CA that signed nothing"),
      );
    } finally {
      await Deno.remove(store).catch(() => {}); // only its certificate is of use
    }
  };
  try {
    await Promise.all([caAndBroker(), otherCa()]); // each keytool call is a JVM start: overlap them
  } catch (err) {
    if (err instanceof StackError && err.message.startsWith("Cannot run keytool")) {
      throw new StackError(
        "Cannot make the TLS certificates: keytool is not on PATH. It comes with the JDK " +
          "(Debian: apt-get install openjdk-17-jdk-headless).",
        { cause: err },
      );
    }
    throw err;
  }
  return files;
}

type Keytool = (
  command: string,
  flags: Record<string, string | string[] | true>,
) => Promise<string>;

/** A self-signed CA in a new PKCS12 store, and its certificate as PEM. */
async function makeCa(keytool: Keytool, store: string, pem: string, dname: string): Promise<void> {
  await keytool("-genkeypair", {
    alias: "ca",
    keyalg: "RSA",
    keysize: "2048",
    validity: String(CERT_VALIDITY_DAYS + 10),
    dname,
    ext: ["BasicConstraints:critical=ca:true,pathlen:0", "KeyUsage:critical=keyCertSign,cRLSign"],
    storetype: "PKCS12",
    keystore: store,
  });
  await keytool("-exportcert", { rfc: true, alias: "ca", keystore: store, file: pem });
}

/** A new PKCS12 keystore with the broker key and its certificate signed by the CA, with chain. */
async function makeBrokerKeystore(
  keytool: Keytool,
  paths: { caStore: string; caPem: string; store: string },
): Promise<void> {
  const { caStore, caPem, store } = paths;
  const csr = `${store}.csr`;
  const crt = `${store}.crt`;
  try {
    await keytool("-genkeypair", {
      alias: "broker",
      keyalg: "RSA",
      keysize: "2048",
      validity: String(CERT_VALIDITY_DAYS),
      dname: "CN=localhost",
      ext: SAN,
      storetype: "PKCS12",
      keystore: store,
    });
    await keytool("-certreq", { alias: "broker", keystore: store, file: csr });
    // keytool does not copy a request's extensions into the certificate: name them again.
    await keytool("-gencert", {
      alias: "ca",
      keystore: caStore,
      infile: csr,
      outfile: crt,
      rfc: true,
      validity: String(CERT_VALIDITY_DAYS),
      ext: [
        SAN,
        "KeyUsage:critical=digitalSignature,keyEncipherment",
        "ExtendedKeyUsage=serverAuth",
      ],
    });
    // A certificate reply is installed only when keytool can build its chain: trust the CA first.
    await keytool("-importcert", { noprompt: true, alias: "ca", file: caPem, keystore: store });
    await keytool("-importcert", { noprompt: true, alias: "broker", file: crt, keystore: store });
  } finally {
    await Promise.all([csr, crt].map((f) => Deno.remove(f).catch(() => {})));
  }
}

/** `{ alias: "ca", ext: ["a", "b"], rfc: true }` → `-alias ca -ext a -ext b -rfc`. */
function toArgs(flags: Record<string, string | string[] | true>): string[] {
  return Object.entries(flags).flatMap(([name, value]) =>
    value === true ? [`-${name}`] : [value].flat().flatMap((v) => [`-${name}`, v])
  );
}

/**
 * Runs `make` on temporary names for `finals`, then renames them into place with mode 0600.
 * keytool refuses to add an alias that a store already has, so leftovers are removed first.
 */
async function withTemp(finals: string[], make: (temps: string[]) => Promise<void>): Promise<void> {
  const temps = finals.map((f) => f.replace(/(\.[a-z0-9]+)$/, ".tmp$1"));
  const clean = () => Promise.all(temps.map((t) => Deno.remove(t).catch(() => {})));
  await clean();
  try {
    await make(temps);
    for (const [i, t] of temps.entries()) {
      await Deno.chmod(t, 0o600);
      await Deno.rename(t, finals[i]!);
    }
  } finally {
    await clean();
  }
}
