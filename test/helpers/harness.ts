// The whole product in-process for a test file: a fresh metadata database, a
// real pg-boss, a real worker, the real Hono app, on the throwaway PostgreSQL
// (which is also the data plane). Calls go through app.request().
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import PgBoss from "pg-boss";
import { createApp } from "../../src/app.ts";
import type { Services } from "../../src/control/context.ts";
import { openMetadataDb } from "../../src/db/client.ts";
import { migrateMetadata } from "../../src/db/migrate.ts";
import { startWorker } from "../../src/jobs/worker.ts";
import { createLogger } from "../../src/lib/log.ts";
import { SecretBox } from "../../src/lib/secrets.ts";
import { connect, testServerUrl } from "./pg.ts";

export interface ApiResponse<T = any> {
  status: number;
  body: T;
}

export interface Harness {
  adminToken: string;
  services: Services;
  logs: string[];
  request<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

export async function startHarness(options: { worker?: boolean } = {}): Promise<Harness> {
  const metadataName = `meta_${randomBytes(4).toString("hex")}`;
  const metadataUrl = testServerUrl(metadataName);
  await migrateMetadata(metadataUrl);
  const { sql, db } = openMetadataDb(metadataUrl, 5);
  const logs: string[] = [];
  const log = createLogger("debug", (line) => {
    logs.push(line);
  });
  const boss = new PgBoss({ connectionString: metadataUrl, schema: "pgboss", max: 3, supervise: false });
  boss.on("error", (error) => log.error("pg-boss error", { error }));
  await boss.start();
  const adminToken = randomBytes(24).toString("base64url");
  const services: Services = {
    db,
    boss,
    secrets: new SecretBox(randomBytes(32).toString("hex")),
    config: { ANONBRANCH_CLONE_STRATEGY: "FILE_COPY", ANONBRANCH_CI_MAX_TTL_SECONDS: 3600, ANONBRANCH_DEFAULT_TTL_SECONDS: 0 },
    log,
  };
  if (options.worker !== false) await startWorker(services, { concurrency: 2, pollingIntervalSeconds: 0.5 });
  else {
    const { ensureQueues } = await import("../../src/jobs/queues.ts");
    await ensureQueues(boss);
  }
  const app = createApp({ services, auth: { adminToken } });

  return {
    adminToken,
    services,
    logs,
    async request(method, path, body, token) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      const bearer = token === undefined ? adminToken : token;
      if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
      const res = await app.request(`/api/v2${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // leave as text
      }
      return { status: res.status, body: parsed as any };
    },
    async close() {
      await boss.stop({ graceful: false, wait: true, timeout: 5000 });
      await sql.end();
      const admin = connect(testServerUrl(), { max: 1 });
      await admin.unsafe(`DROP DATABASE IF EXISTS "${metadataName}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Polls `read` until `done` holds; fails with the last value seen after `timeoutMs`. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; last value: ${JSON.stringify(last)}`);
    await delay(100);
    last = await read();
  }
  return last;
}
