// The endpoint's TLS certificate: generated once into the state directory
// (mode 0600), valid for the configured names (psql verify-full accepts it),
// reused while it fits, replaced when the names change; configured paths win.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { ensureEndpointCertificate } from "../src/endpoint/index.ts";
import { type BackendFixture, CLIENT_PASSWORD, createBackendFixture, psql, startEngine } from "./helpers/endpoint.ts";

let dir: string;
let backend: BackendFixture;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "endpoint-cert-"));
  backend = await createBackendFixture("epcert");
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  await backend.drop();
});

test("generated once, mode 0600, for the given names; psql with verify-full trusts it for those names only", async () => {
  const stateDir = path.join(dir, "state");
  const cert = await ensureEndpointCertificate(stateDir, ["localhost", "*.ep.test", "127.0.0.1"]);
  assert.equal(cert.generated, true);
  assert.equal((await stat(cert.certPath)).mode & 0o777, 0o600);
  assert.equal(path.dirname(cert.certPath), stateDir);
  const sans = new X509Certificate(cert.cert).subjectAltName ?? "";
  assert.match(sans, /DNS:localhost/);
  assert.match(sans, /DNS:\*\.ep\.test/);
  assert.match(sans, /IP Address:127\.0\.0\.1/);

  const again = await ensureEndpointCertificate(stateDir, ["localhost", "*.ep.test", "127.0.0.1"]);
  assert.equal(again.generated, false);
  assert.equal(again.cert, cert.cert);

  const e = await startEngine({ target: () => backend.target(), tls: cert });
  try {
    const rootCert = path.join(dir, "root.crt");
    await writeFile(rootCert, cert.cert);
    const verified = (host: string) =>
      psql(`host=${host} hostaddr=127.0.0.1 port=${e.port} user=alice dbname=branchdb sslmode=verify-full sslrootcert=${rootCert}`, ["-Atc", "SELECT 'verified'"], {
        password: CLIENT_PASSWORD,
      });
    assert.equal((await verified("ep-x.ep.test")).stdout.trim(), "verified");
    assert.equal((await verified("localhost")).stdout.trim(), "verified");
    const other = await verified("elsewhere.example");
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /does not match host name "elsewhere\.example"/);
  } finally {
    await e.close();
  }
});

test("a new host name replaces the certificate", async () => {
  const stateDir = path.join(dir, "names");
  const first = await ensureEndpointCertificate(stateDir, ["a.example"]);
  const second = await ensureEndpointCertificate(stateDir, ["a.example", "b.example"]);
  assert.equal(second.generated, true);
  assert.notEqual(second.cert, first.cert);
  assert.match(new X509Certificate(second.cert).subjectAltName ?? "", /DNS:b\.example/);
  assert.equal((await readFile(second.certPath, "utf8")).includes(second.key), true);
});

test("configured paths are used as given; a key that does not match is refused clearly", async () => {
  const made = await ensureEndpointCertificate(path.join(dir, "made"), ["db.example"]);
  const other = await ensureEndpointCertificate(path.join(dir, "other"), ["other.example"]);
  const certPath = path.join(dir, "c.pem");
  const keyPath = path.join(dir, "k.pem");
  await writeFile(certPath, made.cert);
  await writeFile(keyPath, made.key);
  const used = await ensureEndpointCertificate(path.join(dir, "unused"), [], { certPath, keyPath });
  assert.deepEqual({ cert: used.cert, key: used.key, generated: used.generated }, { cert: made.cert, key: made.key, generated: false });

  await writeFile(keyPath, other.key);
  await assert.rejects(ensureEndpointCertificate(dir, [], { certPath, keyPath }), new RegExp(`endpoint certificate ${certPath}`));
});

test("a name that is not a host name is refused before running openssl", async () => {
  await assert.rejects(ensureEndpointCertificate(path.join(dir, "bad"), ["-subj /CN=x"]), /is not a host name or IP address/);
  await assert.rejects(ensureEndpointCertificate(path.join(dir, "bad"), []), /at least one host name/);
});
