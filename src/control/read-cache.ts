// A cache of metadata reads for the API's hot paths (status, branch, API key
// rows) that stays correct across API processes: every write to the tables
// it caches fires a statement-level trigger that NOTIFYs `anonbranch_changes`
// (migrations/), and each process empties its cache when it hears one, when
// it (re)starts listening, and after any request of its own that may write.
// A fill that raced a change is not kept (generation check), and entries
// expire after a short TTL in case a notification is ever lost. Only Node's
// API creates one; without it (Workers, the worker) every read goes to the
// database.

import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import { BoundedMap } from "../lib/bounded-map.ts";

/** The channel the metadata tables' triggers NOTIFY on. */
export const CHANGES_CHANNEL = "anonbranch_changes";

interface Entry {
  value: unknown;
  expires: number;
}

/** `key` through the read cache when the process has one, else `load()` straight from the database. */
export function readThrough<T>(cache: ReadCache | undefined, key: string, load: () => Promise<T>): T | Promise<T> {
  return cache ? cache.get(key, load) : load();
}

export class ReadCache {
  readonly #entries: BoundedMap<string, Entry>;
  #generation = 0;
  #listening = false;

  constructor(
    private readonly ttlMs = 2_000,
    maxEntries = 10_000,
  ) {
    this.#entries = new BoundedMap(maxEntries);
  }

  /** The value kept for `key`, or undefined when there is none (a kept undefined reads the same). Never loads. */
  peek<T>(key: string): T | undefined {
    return this.#live(key, Date.now())?.value as T | undefined;
  }

  /**
   * Serves `key` from the cache, or loads it (and keeps it if nothing changed
   * meanwhile). A hit is answered as it is, without a promise: these are the
   * API's hottest reads.
   */
  get<T>(key: string, load: () => Promise<T>): T | Promise<T> {
    const now = Date.now();
    const hit = this.#live(key, now);
    return hit ? (hit.value as T) : this.#load(key, load, now);
  }

  async #load<T>(key: string, load: () => Promise<T>, now: number): Promise<T> {
    const generation = this.#generation;
    const value = await load();
    if (this.#listening && generation === this.#generation) {
      this.#entries.set(key, { value, expires: now + this.ttlMs });
    }
    return value;
  }

  #live(key: string, now: number): Entry | undefined {
    const hit = this.#entries.get(key);
    return hit && hit.expires > now ? hit : undefined;
  }

  /** Something changed (here, or in another process): forget everything. */
  invalidate(): void {
    this.#generation += 1;
    this.#entries.clear();
  }

  /** Whether entries are kept: the change notifications are known to arrive. */
  get listening(): boolean {
    return this.#listening;
  }

  /** Nothing is kept unless a listener for the change notifications is up. */
  setListening(listening: boolean): void {
    this.#listening = listening;
    this.invalidate();
  }
}

/** How often each API process checks that the change notifications still reach it. */
const HEARTBEAT_MS = 1_000;
/** Its own heartbeat not heard for this long: the cache is off and the process subscribes again. */
const SILENCE_MS = 2_500;
const HEARTBEAT_PREFIX = "heartbeat:";

interface Logs {
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
}

export interface ChangeListener {
  stop(): Promise<void>;
}

/**
 * Hooks a cache to the change notifications of the metadata database.
 *
 * A subscription can die without a word: the driver subscribes again after
 * its connection closes, but an attempt made while the server is still
 * shutting down fails and leaves the channel dead for that client. So the
 * process NOTIFYs itself a heartbeat every second, and the cache keeps
 * entries only while its own heartbeats come back. A silence turns the cache
 * off (every read goes to the database) and subscribes again on a new
 * connection (`connect`: one small client each time), until heartbeats are heard.
 */
export async function listenForChanges(cache: ReadCache, connect: () => postgres.Sql, log?: Logs): Promise<ChangeListener> {
  const token = `${HEARTBEAT_PREFIX}${randomUUID()}`;
  let client: postgres.Sql | undefined;
  let generation = 0;
  let trusted = false;
  let lastHeard = 0;
  let lastSubscribed = 0;
  let stopped = false;

  const beat = () => {
    if (stopped || !client) return;
    client`select pg_catalog.pg_notify(${CHANGES_CHANNEL}, ${token})`.catch(() => {}); // the server is away: the silence says so
  };
  const heard = (mine: number) => (payload: string) => {
    if (mine !== generation) return; // a subscription given up on
    if (!payload.startsWith(HEARTBEAT_PREFIX)) return cache.invalidate();
    if (payload !== token) return; // another process's heartbeat
    lastHeard = Date.now();
    if (trusted) return;
    trusted = true;
    cache.setListening(true);
    if (mine > 1) log?.info("change notifications heard again; API reads are cached again");
  };
  const subscribe = async () => {
    const mine = ++generation;
    lastSubscribed = Date.now();
    client?.end({ timeout: 1 }).catch(() => {});
    client = connect();
    // On every (re)subscription notifications may have been missed: forget, and check at once.
    await client.listen(CHANGES_CHANNEL, heard(mine), () => {
      cache.invalidate();
      beat();
    });
  };

  cache.setListening(false);
  await subscribe();
  const timer = setInterval(() => {
    if (Date.now() - Math.max(lastHeard, lastSubscribed) > SILENCE_MS) {
      if (trusted) {
        trusted = false;
        cache.setListening(false);
        log?.warn(`change notifications not heard for ${SILENCE_MS / 1000} s; API reads go to the database until they are`);
      }
      subscribe().catch(() => {}); // tried again after the next silence
    }
    beat();
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await client?.end({ timeout: 1 }).catch(() => {});
    },
  };
}
