// Cloudflare Workers entry: the same createApp(), with a metadata connection
// per request. Only the API runs here; the worker stays a Node process.
// pg-boss is given the metadata connection as its `db`, so enqueueing needs no
// pg pool of its own. Not yet exercised on the Workers runtime (see README).
// API keys need ANONBRANCH_JWT_SECRET as a Worker secret (there is no state
// directory to generate one into); without it they are refused.
import PgBoss from "pg-boss";
import { createApp } from "./app.ts";
import { parseConfig } from "./config.ts";
import { openMetadataDb } from "./db/client.ts";
import { bossDb } from "./jobs/boss-db.ts";
import { createLogger } from "./lib/log.ts";
import { SecretBox } from "./lib/secrets.ts";

interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

export default {
  async fetch(request: Request, env: Record<string, string | undefined>, ctx: WorkerContext): Promise<Response> {
    const config = parseConfig(env);
    if (!config.ANONBRANCH_ADMIN_TOKEN || !config.ANONBRANCH_SECRET_KEY) {
      return Response.json(
        { code: "MISCONFIGURED", message: "set ANONBRANCH_ADMIN_TOKEN and ANONBRANCH_SECRET_KEY as Worker secrets" },
        { status: 500 },
      );
    }
    const { sql, db } = openMetadataDb(config.DATABASE_URL, 1);
    const boss = new PgBoss({ db: bossDb(db), schema: "pgboss" });
    const services = {
      db,
      boss,
      secrets: new SecretBox(config.ANONBRANCH_SECRET_KEY),
      config,
      log: createLogger(config.LOG_LEVEL, (line) => console.log(line.trimEnd())),
    };
    const app = createApp({ services, auth: { adminToken: config.ANONBRANCH_ADMIN_TOKEN } });
    try {
      return await app.fetch(request);
    } finally {
      ctx.waitUntil(sql.end());
    }
  },
};
