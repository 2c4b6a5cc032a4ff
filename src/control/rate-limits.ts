// Rate limits per principal (API key, OIDC principal), in Neon's shape: a
// budget of requests per minute across all routes, and a burst limit per
// second on each route. Admitting a request costs no database round trip: each
// API instance counts locally and, every FLUSH_MS, adds its counts to shared
// rows in the metadata database and reads the totals back, so the limits hold
// across instances, up to what they admit between two flushes. The minute
// budget is a sliding window (the previous minute weighted by what is left
// of it), so a client cannot spend two budgets across a minute's boundary.
// Runtime-neutral: no timers here; the entry point calls flush().
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { RateLimited } from "../lib/errors.ts";
import type { Principal } from "./context.ts";

export interface RateLimits {
  /** Requests per minute per principal, all routes together; 0 = no limit. */
  perMinute: number;
  /** Requests per second per principal on one route; 0 = no limit. */
  burstPerSecond: number;
  /** Requests per minute for the admin token and admin keys; 0 = no limit (the default). */
  adminPerMinute: number;
}

interface Counter {
  window: number;
  windowMs: number;
  /** Admitted here since the last flush began. */
  local: number;
  /** Admitted here and being sent by the flush in progress. */
  inflight: number;
  /** The shared total of this window as of the last flush (ours included). */
  shared: number;
  /** The total of the previous window, for the sliding estimate. */
  previous: number;
}

const MINUTE = 60_000;
const SECOND = 1_000;
const PRUNE_EVERY_MS = 60_000;

export class RateLimiter {
  readonly #counters = new Map<string, Counter>();
  #lastPrune = 0;

  constructor(
    readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Admits the request or throws RateLimited (429) with the seconds to wait. */
  admit(principal: Principal, route: string): void {
    const isAdmin = principal.role === "admin";
    const perMinute = isAdmin ? this.limits.adminPerMinute : this.limits.perMinute;
    if (isAdmin && perMinute === 0) return;
    const now = this.now();
    const minute = perMinute > 0 ? this.#counter(`m:${principal.id}`, MINUTE, now) : null;
    const second = this.limits.burstPerSecond > 0 ? this.#counter(`s:${principal.id}:${route}`, SECOND, now) : null;
    if (minute) {
      const elapsed = (now % MINUTE) / MINUTE;
      const current = minute.shared + minute.inflight + minute.local;
      const estimate = minute.previous * (1 - elapsed) + current;
      if (estimate + 1 > perMinute) {
        // When will the previous minute's weight have dropped enough (or the window turned)?
        const needed = estimate + 1 - perMinute;
        const wait = minute.previous > 0 && current + 1 <= perMinute ? (needed / minute.previous) * MINUTE : MINUTE - (now % MINUTE);
        throw new RateLimited(
          `rate limit: ${perMinute} requests per minute for ${principal.name}; retry in ${Math.max(1, Math.ceil(wait / 1000))} s`,
          Math.max(1, Math.ceil(wait / 1000)),
        );
      }
    }
    if (second && second.shared + second.inflight + second.local + 1 > this.limits.burstPerSecond) {
      throw new RateLimited(
        `rate limit: ${this.limits.burstPerSecond} requests per second on ${route} for ${principal.name}; retry in 1 s`,
        Math.max(1, Math.ceil((SECOND - (now % SECOND)) / 1000)),
      );
    }
    if (minute) minute.local += 1;
    if (second) second.local += 1;
  }

  #counter(key: string, windowMs: number, now: number): Counter {
    const window = Math.floor(now / windowMs);
    let c = this.#counters.get(key);
    if (!c) {
      c = { window, windowMs, local: 0, inflight: 0, shared: 0, previous: 0 };
      this.#counters.set(key, c);
    } else if (c.window !== window) {
      c.previous = c.window === window - 1 ? c.shared + c.inflight + c.local : 0;
      // What the old window admitted and no flush took yet still goes out.
      if (c.local > 0) this.#pending.push({ key, window: c.window, windowMs, delta: c.local });
      Object.assign(c, { window, local: 0, inflight: 0, shared: 0 });
    }
    return c;
  }

  /** Counts of windows that turned before a flush took them. */
  readonly #pending: { key: string; window: number; windowMs: number; delta: number }[] = [];

  /**
   * Adds what this instance admitted to the shared counts and reads the totals
   * back. Call it every few hundred ms; when it fails (database down) the
   * counts stay local and go out with the next call.
   */
  async flush(db: Db): Promise<void> {
    const now = this.now();
    const rows = this.#pending.splice(0);
    const sent: { key: string; c: Counter; window: number }[] = [];
    for (const [key, c] of this.#counters) {
      if (c.window < Math.floor(now / c.windowMs) - 1 && c.local === 0 && c.inflight === 0) {
        this.#counters.delete(key); // idle for two windows: forget it
        continue;
      }
      c.inflight += c.local;
      c.local = 0;
      sent.push({ key, c, window: c.window });
      rows.push({ key, window: c.window, windowMs: c.windowMs, delta: c.inflight });
    }
    if (rows.length === 0) return;
    // One row per key and window: ON CONFLICT may touch a row once per statement.
    const merged = new Map<string, { key: string; start: number; delta: number }>();
    for (const r of rows) {
      const id = `${r.key}@${r.window * r.windowMs}`;
      const m = merged.get(id);
      if (m) m.delta += r.delta;
      else merged.set(id, { key: r.key, start: r.window * r.windowMs, delta: r.delta });
    }
    const batch = [...merged.values()];
    let totals: Map<string, number>;
    try {
      const result = await db.execute<{ key: string; window_start: Date | string; count: number }>(sql`
        INSERT INTO rate_limit_counters (key, window_start, count)
        SELECT k, to_timestamp(w::bigint / 1000.0), d::int
        FROM unnest(${sql.param(batch.map((r) => r.key))}::text[], ${sql.param(batch.map((r) => String(r.start)))}::text[], ${sql.param(batch.map((r) => String(r.delta)))}::text[]) AS u(k, w, d)
        ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_counters.count + excluded.count
        RETURNING key, window_start, count`);
      totals = new Map(result.map((r) => [`${r.key}@${new Date(r.window_start).getTime()}`, Number(r.count)]));
    } catch (error) {
      for (const { key, c, window } of sent) {
        if (c.window === window) {
          c.local += c.inflight;
          c.inflight = 0;
        } else if (c.inflight > 0) this.#pending.push({ key, window, windowMs: c.windowMs, delta: c.inflight });
      }
      this.#pending.push(...rows.filter((r) => !sent.some((x) => x.key === r.key && x.window === r.window)));
      throw error;
    }
    for (const { key, c, window } of sent) {
      if (c.window !== window) continue; // turned meanwhile: that total belongs to the old window
      const total = totals.get(`${key}@${window * c.windowMs}`);
      if (total !== undefined) c.shared = total;
      c.inflight = 0;
    }
    if (now - this.#lastPrune > PRUNE_EVERY_MS) {
      this.#lastPrune = now;
      await db.execute(sql`DELETE FROM rate_limit_counters WHERE window_start < now() - interval '5 minutes'`);
    }
  }
}
