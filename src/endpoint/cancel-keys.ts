// Cancel keys: each client gets a (pid, secret) minted here, never the
// backend's own. A CancelRequest carrying a key we minted is forwarded to the
// backend that key stands for; any other key is dropped without an answer,
// as PostgreSQL does. Keys live exactly as long as their session.
import { randomInt } from "node:crypto";
import type { BackendTarget } from "./types.ts";

export interface CancelTarget {
  transport: Pick<BackendTarget, "host" | "port" | "ssl">;
  pid: number;
  secret: number;
}

export class CancelKeys {
  private readonly keys = new Map<string, CancelTarget>();

  /** Mints a unique client-facing key for a backend session. */
  issue(target: CancelTarget): { pid: number; secret: number; release: () => void } {
    for (;;) {
      const pid = randomInt(1, 0x7fffffff);
      const secret = randomInt(-0x80000000, 0x7fffffff);
      const key = `${pid}:${secret}`;
      if (this.keys.has(key)) continue;
      this.keys.set(key, target);
      return { pid, secret, release: () => this.keys.delete(key) };
    }
  }

  find(pid: number, secret: number): CancelTarget | undefined {
    return this.keys.get(`${pid}:${secret}`);
  }

  get size(): number {
    return this.keys.size;
  }
}
