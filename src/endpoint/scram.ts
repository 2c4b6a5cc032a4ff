// SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL speaks it, both ways: the
// engine is the server to its clients (checking a stored verifier, so it
// never holds their passwords) and a client to the backend. No channel
// binding: we advertise only SCRAM-SHA-256.
//
// Passwords are used as UTF-8 without SASLprep; anonbranch generates ASCII
// passwords, for which SASLprep changes nothing.
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import type { ScramVerifier } from "./types.ts";
import { ProtocolViolation } from "./wire.ts";

export const SCRAM_SHA_256 = "SCRAM-SHA-256";
const pbkdf2Async = promisify(pbkdf2);
const sha256 = (data: Buffer): Buffer => createHash("sha256").update(data).digest();
const hmac = (key: Buffer, text: string): Buffer => createHmac("sha256", key).update(text, "utf8").digest();

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

function keysFromSaltedPassword(salted: Buffer): { clientKey: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const clientKey = hmac(salted, "Client Key");
  return { clientKey, storedKey: sha256(clientKey), serverKey: hmac(salted, "Server Key") };
}

/** A verifier for storage: what the endpoint needs to check a password, and nothing to log in elsewhere with. */
export function scramVerifierFor(password: string, iterations = 4096): ScramVerifier {
  const salt = randomBytes(16);
  const { storedKey, serverKey } = keysFromSaltedPassword(pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256"));
  return { salt, iterations, storedKey, serverKey };
}

/** PostgreSQL's text form (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`), for a text column. */
export function formatScramVerifier(v: ScramVerifier): string {
  const b64 = (b: Buffer) => b.toString("base64");
  return `${SCRAM_SHA_256}$${v.iterations}:${b64(v.salt)}$${b64(v.storedKey)}:${b64(v.serverKey)}`;
}

/** Parses the text form; also accepts what pg_authid.rolpassword holds for a SCRAM role. */
export function parseScramVerifier(text: string): ScramVerifier {
  const match = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(text);
  if (!match) throw new Error("not a SCRAM-SHA-256 verifier");
  const [, iterations, salt, storedKey, serverKey] = match;
  const v = {
    iterations: Number(iterations),
    salt: Buffer.from(salt!, "base64"),
    storedKey: Buffer.from(storedKey!, "base64"),
    serverKey: Buffer.from(serverKey!, "base64"),
  };
  if (v.iterations < 1 || v.storedKey.length !== 32 || v.serverKey.length !== 32) throw new Error("not a SCRAM-SHA-256 verifier");
  return v;
}

const malformed = (what: string) => new ProtocolViolation("08P01", `malformed SCRAM message (${what})`);

/** Splits "k=v,k=v" attributes; values may contain '=' (base64). */
function attributes(text: string): Array<[string, string]> {
  return text.split(",").map((part) => {
    if (part.length < 2 || part[1] !== "=") throw malformed("attribute expected");
    return [part[0]!, part.slice(2)];
  });
}

const printableNonce = /^[\x21-\x2b\x2d-\x7e]+$/; // RFC 5802: printable ASCII except ','

/** The server side of one exchange, against a stored verifier. */
export class ScramServerExchange {
  private clientFirstBare = "";
  private serverFirst = "";
  private gs2Header = "";
  private nonce = "";

  constructor(private readonly verifier: ScramVerifier) {}

  /** client-first-message → server-first-message. */
  start(clientFirst: string): string {
    // gs2-header: cbind-flag "," [authzid] ","
    const firstComma = clientFirst.indexOf(",");
    const secondComma = clientFirst.indexOf(",", firstComma + 1);
    if (firstComma < 0 || secondComma < 0) throw malformed("gs2 header");
    const flag = clientFirst.slice(0, firstComma);
    if (flag.startsWith("p=")) throw malformed("channel binding was not offered");
    if (flag !== "n" && flag !== "y") throw malformed("channel binding flag");
    if (clientFirst.slice(firstComma + 1, secondComma) !== "") throw malformed("authorization identities are not supported");
    this.gs2Header = clientFirst.slice(0, secondComma + 1);
    this.clientFirstBare = clientFirst.slice(secondComma + 1);
    const attrs = attributes(this.clientFirstBare);
    // PostgreSQL ignores the SCRAM user name (the startup packet's counts).
    if (attrs[0]?.[0] !== "n") throw malformed("user name expected");
    const clientNonce = attrs[1]?.[0] === "r" ? attrs[1][1] : "";
    if (!printableNonce.test(clientNonce)) throw malformed("client nonce");
    if (attrs.some(([k]) => k === "m")) throw malformed("mandatory extensions are not supported");
    this.nonce = clientNonce + randomBytes(18).toString("base64");
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString("base64")},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  /** client-final-message → server-final-message, or null when the proof is wrong (wrong password). */
  finish(clientFinal: string): string | null {
    const proofAt = clientFinal.lastIndexOf(",p=");
    if (proofAt < 0) throw malformed("proof expected");
    const withoutProof = clientFinal.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    if (attrs[0]?.[0] !== "c" || Buffer.from(attrs[0][1], "base64").toString("latin1") !== this.gs2Header) {
      throw malformed("channel binding data");
    }
    if (attrs[1]?.[0] !== "r" || attrs[1][1] !== this.nonce) throw malformed("nonce mismatch");
    const proof = Buffer.from(clientFinal.slice(proofAt + 3), "base64");
    if (proof.length !== 32) throw malformed("proof length");
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientKey = xor(proof, hmac(this.verifier.storedKey, authMessage));
    if (!timingSafeEqual(sha256(clientKey), this.verifier.storedKey)) return null;
    return `v=${hmac(this.verifier.serverKey, authMessage).toString("base64")}`;
  }
}

// The backend's salt and iteration count are fixed per role, so the salted
// password (4096 PBKDF2 rounds by default, the only costly step) is computed
// once per (password, salt, iterations) and kept in a small bounded cache.
const derivedKeys = new Map<string, { clientKey: Buffer; serverKey: Buffer }>();
const DERIVED_KEYS_MAX = 256;
const MAX_BACKEND_ITERATIONS = 1_000_000;

async function derive(password: string, salt: Buffer, iterations: number): Promise<{ clientKey: Buffer; serverKey: Buffer }> {
  const cacheKey = sha256(Buffer.from(`${iterations}\0${salt.toString("base64")}\0${password}`, "utf8")).toString("base64");
  const hit = derivedKeys.get(cacheKey);
  if (hit) return hit;
  const salted = await pbkdf2Async(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256");
  const { clientKey, serverKey } = keysFromSaltedPassword(salted);
  if (derivedKeys.size >= DERIVED_KEYS_MAX) derivedKeys.delete(derivedKeys.keys().next().value!);
  derivedKeys.set(cacheKey, { clientKey, serverKey });
  return { clientKey, serverKey };
}

/** The client side of one exchange, towards the backend. */
export class ScramClientExchange {
  private readonly clientNonce = randomBytes(18).toString("base64");
  private readonly clientFirstBare = `n=,r=${this.clientNonce}`;
  private expectedServerFinal = "";

  constructor(private readonly password: string) {}

  clientFirst(): string {
    return `n,,${this.clientFirstBare}`;
  }

  async clientFinal(serverFirst: string): Promise<string> {
    const attrs = new Map(attributes(serverFirst));
    const nonce = attrs.get("r") ?? "";
    const salt = Buffer.from(attrs.get("s") ?? "", "base64");
    const iterations = Number(attrs.get("i"));
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) throw new Error("backend SCRAM: bad server nonce");
    if (salt.length === 0 || !Number.isInteger(iterations) || iterations < 1 || iterations > MAX_BACKEND_ITERATIONS) {
      throw new Error("backend SCRAM: bad salt or iteration count");
    }
    const { clientKey, serverKey } = await derive(this.password, salt, iterations);
    const withoutProof = `c=biws,r=${nonce}`; // biws = base64("n,,")
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(sha256(clientKey), authMessage));
    this.expectedServerFinal = `v=${hmac(serverKey, authMessage).toString("base64")}`;
    return `${withoutProof},p=${proof.toString("base64")}`;
  }

  /** True when the backend proved it knows the verifier (it is the server we meant). */
  verifyServerFinal(serverFinal: string): boolean {
    const got = Buffer.from(serverFinal.split(",")[0] ?? "", "utf8");
    const want = Buffer.from(this.expectedServerFinal, "utf8");
    return want.length > 0 && got.length === want.length && timingSafeEqual(got, want);
  }
}

/** PostgreSQL's MD5 password response: "md5" + md5(md5(password + user) + salt). */
export function md5PasswordResponse(user: string, password: string, salt: Buffer): string {
  const inner = createHash("md5").update(password + user, "utf8").digest("hex");
  return `md5${createHash("md5").update(Buffer.concat([Buffer.from(inner, "latin1"), salt])).digest("hex")}`;
}
