// The endpoint's TLS certificate: configured paths when given, otherwise a
// self-signed one generated once with the openssl CLI and kept in the state
// directory (one file, key + certificate, mode 0600; replaced atomically, so
// concurrent starts never pair a key with another run's certificate). It is
// regenerated when it no longer covers the requested host names or is about
// to expire. Clients with sslmode=require encrypt without verifying it.
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";

const run = promisify(execFile);
const FILE_NAME = "endpoint-tls.pem";
const VALID_DAYS = 825;
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

export interface EndpointCertificate {
  cert: string;
  key: string;
  /** Where it was read from (the generated file holds both). */
  certPath: string;
  keyPath: string;
  generated: boolean;
}

const hostNamePattern = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function subjectAltNames(hostNames: string[]): string[] {
  return hostNames.map((name) => {
    if (net.isIP(name)) return `IP:${name}`;
    if (!hostNamePattern.test(name)) throw new Error(`endpoint certificate: "${name}" is not a host name or IP address`);
    return `DNS:${name}`;
  });
}

function splitPem(text: string): { key: string; cert: string } | null {
  const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----\n?/.exec(text)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(text)?.[0];
  return key && cert ? { key, cert } : null;
}

/** The existing certificate still serves: it parses, matches its key, covers every name, and is not about to expire. */
function stillGood(pair: { key: string; cert: string }, wanted: string[]): boolean {
  try {
    tls.createSecureContext(pair); // throws when the key does not match the certificate
    const x509 = new X509Certificate(pair.cert);
    if (Date.parse(x509.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    // Node prints IPs as "IP Address:1.2.3.4"; compare in openssl's input spelling.
    const have = new Set((x509.subjectAltName ?? "").split(", ").map((s) => s.replace(/^IP Address:/, "IP:")));
    return wanted.every((san) => have.has(san));
  } catch {
    return false;
  }
}

async function generate(stateDir: string, hostNames: string[], sans: string[]): Promise<{ key: string; cert: string }> {
  const work = await mkdtemp(path.join(stateDir, ".endpoint-tls-"));
  try {
    const keyFile = path.join(work, "key.pem");
    const certFile = path.join(work, "cert.pem");
    const commonName = hostNames.find((n) => !net.isIP(n))?.replace(/^\*\./, "") ?? hostNames[0]!;
    // P-256: fast handshakes, accepted by every libpq/OpenSSL and Node client.
    await run("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", keyFile, "-out", certFile, "-days", String(VALID_DAYS),
      "-subj", `/CN=${commonName}`, "-addext", `subjectAltName=${sans.join(",")}`,
    ]).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") {
        throw new Error("openssl is not installed: run `bash scripts/setup.sh` (it installs it) or configure the endpoint's certificate and key paths");
      }
      throw new Error(`openssl could not generate the endpoint certificate: ${String((error as { stderr?: string }).stderr ?? error.message).trim()}`);
    });
    return { key: await readFile(keyFile, "utf8"), cert: await readFile(certFile, "utf8") };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The certificate the endpoint serves. `configured` (both paths) wins;
 * otherwise `<stateDir>/endpoint-tls.pem`, generated on first use for
 * `hostNames` (DNS names, `*.wildcards`, IP addresses).
 */
export async function ensureEndpointCertificate(
  stateDir: string,
  hostNames: string[],
  configured?: { certPath: string; keyPath: string },
): Promise<EndpointCertificate> {
  if (configured) {
    const pair = { cert: await readFile(configured.certPath, "utf8"), key: await readFile(configured.keyPath, "utf8") };
    try {
      tls.createSecureContext(pair);
    } catch (error) {
      throw new Error(`endpoint certificate ${configured.certPath} / key ${configured.keyPath}: ${(error as Error).message}`);
    }
    return { ...pair, ...configured, generated: false };
  }
  if (hostNames.length === 0) throw new Error("endpoint certificate: at least one host name is needed");
  const sans = subjectAltNames(hostNames);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, FILE_NAME);
  const existing = await readFile(file, "utf8").then(splitPem, () => null);
  if (existing && stillGood(existing, sans)) return { ...existing, certPath: file, keyPath: file, generated: false };

  const pair = await generate(stateDir, hostNames, sans);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, pair.key + pair.cert, { mode: 0o600 });
  await chmod(temp, 0o600); // in case the umask or an old file got in the way
  await rename(temp, file);
  return { ...pair, certPath: file, keyPath: file, generated: true };
}
