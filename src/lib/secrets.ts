// Secrets at rest (data-plane URIs, branch passwords) as compact JWE
// (dir + A256GCM) under a key derived from ANONBRANCH_SECRET_KEY.
import { createHash, randomBytes } from "node:crypto";
import { CompactEncrypt, compactDecrypt } from "jose";

export class SecretBox {
  readonly #key: Uint8Array;

  constructor(secretKey: string) {
    this.#key = new Uint8Array(createHash("sha256").update(`anonbranch:${secretKey}`).digest());
  }

  async seal(plaintext: string): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .encrypt(this.#key);
  }

  async open(jwe: string): Promise<string> {
    const { plaintext } = await compactDecrypt(jwe, this.#key);
    return new TextDecoder().decode(plaintext);
  }
}

/** A password for a branch role: URL-safe, 24 random bytes. */
export function newPassword(): string {
  return randomBytes(24).toString("base64url");
}
