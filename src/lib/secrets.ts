// Secrets at rest (data-plane URIs, branch passwords) as compact JWE
// (dir + A256GCM) under a key derived from ANONBRANCH_SECRET_KEY.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { CompactEncrypt, compactDecrypt } from "jose";
import { BoundedMap } from "./bounded-map.ts";

export class SecretBox {
  readonly #key: Promise<CryptoKey>;
  /** Secrets kept opened: a create opens its parent's URI every time; the process holds the key anyway. */
  readonly #opened = new BoundedMap<string, string>(1000);

  constructor(secretKey: string) {
    const raw = new Uint8Array(createHash("sha256").update(`anonbranch:${secretKey}`).digest());
    // Imported once, not at every seal and open.
    this.#key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  }

  async seal(plaintext: string): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .encrypt(await this.#key);
  }

  async open(jwe: string): Promise<string> {
    const known = this.#opened.get(jwe);
    if (known !== undefined) return known;
    const { plaintext } = await compactDecrypt(jwe, await this.#key);
    const text = new TextDecoder().decode(plaintext);
    this.#opened.set(jwe, text);
    return text;
  }
}

/** A password for a branch role: URL-safe, 24 random bytes. */
export function newPassword(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677),
 * computed here so that CREATE/ALTER ROLE … PASSWORD never carries the
 * password itself: a statement that reaches a server log leaks nothing usable.
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}
