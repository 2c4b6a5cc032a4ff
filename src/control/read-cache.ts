// A cache of metadata reads for the API's hot paths (status, branch, API key
// rows) that stays correct across API processes: every write to the tables
// it caches fires a statement-level trigger that NOTIFYs `anonbranch_changes`
// (migrations/), and each process empties its cache when it hears one, when
// it (re)starts listening, and after any request of its own that may write.
// A fill that raced a change is not kept (generation check), and entries
// expire after a short TTL in case a notification is ever lost. Only Node's
// API creates one; without it (Workers, the worker) every read goes to the
// database.

/** The channel the metadata tables' triggers NOTIFY on. */
export const CHANGES_CHANNEL = "anonbranch_changes";

interface Entry {
  value: unknown;
  expires: number;
}

export class ReadCache {
  #entries = new Map<string, Entry>();
  #generation = 0;
  #listening = false;

  constructor(
    private readonly ttlMs = 2_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** Serves `key` from the cache, or loads it (and keeps it if nothing changed meanwhile). */
  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expires > now) return hit.value as T;
    const generation = this.#generation;
    const value = await load();
    if (this.#listening && generation === this.#generation) {
      if (this.#entries.size >= this.maxEntries) this.#entries.clear();
      this.#entries.set(key, { value, expires: now + this.ttlMs });
    }
    return value;
  }

  /** Something changed (here, or in another process): forget everything. */
  invalidate(): void {
    this.#generation += 1;
    this.#entries.clear();
  }

  /** Nothing is kept unless a listener for the change notifications is up. */
  setListening(listening: boolean): void {
    this.#listening = listening;
    this.invalidate();
  }
}

interface Listener {
  listen(channel: string, onNotify: (payload: string) => void, onListen?: () => void): Promise<unknown>;
}

/** Hooks a cache to the change notifications of the metadata database. */
export async function listenForChanges(cache: ReadCache, sql: Listener): Promise<void> {
  await sql.listen(
    CHANGES_CHANNEL,
    () => cache.invalidate(),
    // Called on every (re)subscription: notifications may have been missed meanwhile.
    () => cache.setListening(true),
  );
}
