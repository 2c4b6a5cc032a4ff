// Reads of the data plane that a burst of API calls would repeat (a parent's
// catalog, its size), kept for a short while in this process. A read at most
// maxAgeMs old answers; one past half that age answers and is read again in
// the background, so a steady stream of calls never waits for the server.
import { createHash } from "node:crypto";
import { BoundedMap } from "./bounded-map.ts";

/** What keys the reads of one data-plane server: a digest of its URI, so no password sits in a key. */
export function serverKey(sourceUri: string): string {
  return createHash("sha256").update(sourceUri).digest("hex");
}

interface Read<T> {
  value: T;
  /** When the read began: what it saw is at least this recent. */
  at: number;
}

export class RecentReads<T> {
  readonly #reads: BoundedMap<string, Read<T>>;
  #refreshing = new Set<string>();

  constructor(maxEntries = 1_000) {
    this.#reads = new BoundedMap(maxEntries);
  }

  /** The value of `key`, from a read at most maxAgeMs old, else read now (`read`); 0: always read now. */
  async get(key: string, maxAgeMs: number, read: () => Promise<T>): Promise<T> {
    const hit = this.#reads.get(key);
    const age = hit ? Date.now() - hit.at : Infinity;
    if (hit && maxAgeMs > 0 && age <= maxAgeMs) {
      if (age > maxAgeMs / 2 && !this.#refreshing.has(key)) {
        this.#refreshing.add(key);
        // A failed refresh changes nothing: the next call past the age reads synchronously and reports it.
        void this.#read(key, read)
          .catch(() => {})
          .finally(() => this.#refreshing.delete(key));
      }
      return hit.value;
    }
    return this.#read(key, read);
  }

  /** Reads `key` now, and keeps what it read. */
  async #read(key: string, read: () => Promise<T>): Promise<T> {
    const at = Date.now();
    const value = await read();
    this.#reads.set(key, { value, at });
    return value;
  }
}
