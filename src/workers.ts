// Cloudflare Workers entry: the same createApp() as Node, with one metadata
// connection per request (Workers may not keep sockets across requests).
// Only the API runs here; the worker that clones and masks stays a Node process
// on the same metadata database (README "Cloudflare Workers").
//
// Enqueueing: pg-boss is given the request's metadata connection as its `db`
// and never started, so `send` is plain SQL on that connection, inside the
// verb's transaction (src/jobs/boss-db.ts) — no pool, no timers, no polling in
// the Worker. The Node worker polls the same pgboss.job table.
import PgBoss from "pg-boss";
import { createApp } from "./app.ts";
import { parseConfig, type Config } from "./config.ts";
import { openMetadataDb } from "./db/client.ts";
import { bossDb } from "./jobs/boss-db.ts";
import { createLogger } from "./lib/log.ts";
import { SecretBox } from "./lib/secrets.ts";

interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** Vars and secrets are strings; a Hyperdrive binding named HYPERDRIVE replaces DATABASE_URL. */
interface WorkerEnv {
  HYPERDRIVE?: { connectionString: string };
  [name: string]: unknown;
}

function configFrom(env: WorkerEnv): Config {
  const vars: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === "string") vars[name] = value;
  if (env.HYPERDRIVE) vars.DATABASE_URL = env.HYPERDRIVE.connectionString;
  return parseConfig(vars);
}

function misconfigured(message: string): Response {
  return Response.json({ code: "MISCONFIGURED", message, request_id: crypto.randomUUID() }, { status: 500 });
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WorkerContext): Promise<Response> {
    let config: Config;
    try {
      config = configFrom(env);
    } catch (error) {
      // parseConfig names the variables and the rule they break, never their values.
      return misconfigured((error as Error).message);
    }
    if (!config.ANONBRANCH_ADMIN_TOKEN || !config.ANONBRANCH_SECRET_KEY) {
      return misconfigured("set ANONBRANCH_ADMIN_TOKEN and ANONBRANCH_SECRET_KEY as Worker secrets");
    }
    const { sql, db } = openMetadataDb(config.DATABASE_URL, 1);
    const services = {
      db,
      boss: new PgBoss({ db: bossDb(db), schema: "pgboss" }),
      secrets: new SecretBox(config.ANONBRANCH_SECRET_KEY),
      // Without ANONBRANCH_JWT_SECRET (a Worker secret) API keys are refused:
      // there is no state directory to generate one into.
      config,
      log: createLogger(config.LOG_LEVEL, (line) => console.log(line.trimEnd())),
    };
    const app = createApp({ services, auth: { adminToken: config.ANONBRANCH_ADMIN_TOKEN } });
    try {
      return await app.fetch(request);
    } finally {
      ctx.waitUntil(sql.end({ timeout: 5 }));
    }
  },
};
