import assert from "node:assert/strict";
import { run } from "./_process.ts";
import { ensureTls } from "./tls.ts";

const PASSWORD = "test-store-password";

/** `keytool -list -v` of one entry of a PKCS12 store. */
function listEntry(store: string, alias: string): Promise<string> {
  return run("keytool", [
    "-list",
    "-v",
    "-alias",
    alias,
    "-keystore",
    store,
    "-storepass:env",
    "PW",
  ], {
    env: { PW: PASSWORD },
  });
}

/** `keytool -printcert` of a PEM file. */
function printCert(file: string): Promise<string> {
  return run("keytool", ["-printcert", "-file", file]);
}

Deno.test("ensureTls() makes the stack's certificates once, and remakes only missing ones", async (t) => {
  const dir = await Deno.makeTempDir();
  const read = (f: string) => Deno.readFile(`${dir}/tls/${f}`);
  const listing = async () => {
    const names = [];
    for await (const e of Deno.readDir(`${dir}/tls`)) names.push(e.name);
    return names.sort();
  };
  const ALL = ["broker.p12", "ca.p12", "ca.pem", "other-ca.pem"];
  try {
    const files = await ensureTls(`${dir}/tls`, PASSWORD);

    await t.step(
      "a CA-signed RSA 2048 broker certificate for localhost and 127.0.0.1, 10 years",
      async () => {
        assert.equal((await Deno.stat(files.dir)).mode! & 0o777, 0o700);
        assert.deepEqual(await listing(), ALL);
        const broker = await listEntry(files.keystore, "broker");
        assert.match(broker, /Entry type: PrivateKeyEntry/);
        assert.match(broker, /Certificate chain length: 2/);
        assert.match(broker, /Owner: CN=localhost\nIssuer: CN=user-pipeline local stack CA/);
        assert.match(broker, /Subject Public Key Algorithm: 2048-bit RSA key/);
        assert.match(broker, /DNSName: localhost\n\s+IPAddress: 127\.0\.0\.1/);
        assert.match(broker, /serverAuth/);
        const [, from, until] = /Valid from: .* (\d{4}) until: .* (\d{4})/.exec(broker) ?? [];
        assert.equal(Number(until) - Number(from), 10, "valid for 10 years");
        assert.match(await Deno.readTextFile(files.caPem), /^-----BEGIN CERTIFICATE-----\n/);
      },
    );

    await t.step("an unrelated CA beside it", async () => {
      assert.match(await printCert(files.otherCaPem), /Owner: CN=unrelated CA that signed nothing/);
      assert.notDeepEqual(await read("other-ca.pem"), await read("ca.pem"));
    });

    await t.step("kept as they are when present", async () => {
      const before = await Promise.all(ALL.map(read));
      await ensureTls(files.dir, PASSWORD);
      assert.deepEqual(await Promise.all(ALL.map(read)), before);
    });

    await t.step("a missing keystore is remade with the same CA", async () => {
      const [ca, broker, other] = await Promise.all(
        ["ca.pem", "broker.p12", "other-ca.pem"].map(read),
      );
      await Deno.remove(files.keystore);
      await ensureTls(files.dir, PASSWORD);
      assert.notDeepEqual(await read("broker.p12"), broker);
      assert.deepEqual(await read("ca.pem"), ca);
      assert.deepEqual(await read("other-ca.pem"), other);
    });

    await t.step("a missing CA is remade and signs a new broker certificate", async () => {
      const [ca, broker] = await Promise.all(["ca.pem", "broker.p12"].map(read));
      await Deno.remove(files.caPem);
      await ensureTls(files.dir, PASSWORD);
      assert.notDeepEqual(await read("ca.pem"), ca);
      assert.notDeepEqual(await read("broker.p12"), broker);
      const chain = await listEntry(files.keystore, "broker");
      const fingerprint = (text: string) => /SHA256: (\S+)/.exec(text)?.[1];
      assert.equal(
        fingerprint(chain.split("Certificate[2]:")[1] ?? ""),
        fingerprint(await printCert(files.caPem)),
        "the chain ends in the new CA",
      );
      assert.deepEqual(await listing(), ALL, "no temporary files left");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
