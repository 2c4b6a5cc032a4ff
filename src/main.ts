// Node entry point: `migrate`, `api`, `worker`, or both (default).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import PgBoss from "pg-boss";
import { createApp } from "./app.ts";
import { parseConfig, type Config } from "./config.ts";
import type { Services } from "./control/context.ts";
import { openMetadataDb } from "./db/client.ts";
import { migrateMetadata } from "./db/migrate.ts";
import { ensureQueues } from "./jobs/queues.ts";
import { armCrashPoint } from "./jobs/crash-points.ts";
import { startWorker } from "./jobs/worker.ts";
import { createLogger, type Logger } from "./lib/log.ts";
import { SecretBox } from "./lib/secrets.ts";

type Mode = "all" | "api" | "worker" | "migrate";

/**
 * A secret from the environment, or one generated once and kept in the state
 * directory (mode 0600) for a laptop setup. Returns whether it was new.
 */
function persistentSecret(config: Config, envValue: string | undefined, file: string): { value: string; created: boolean } {
  if (envValue) return { value: envValue, created: false };
  const path = join(config.ANONBRANCH_STATE_DIR, file);
  if (existsSync(path)) return { value: readFileSync(path, "utf8").trim(), created: false };
  mkdirSync(config.ANONBRANCH_STATE_DIR, { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString("base64url");
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return { value, created: true };
}

async function main(mode: Mode): Promise<void> {
  const config = parseConfig(process.env);
  const log = createLogger(config.LOG_LEVEL);
  log.info("migrating metadata database");
  await migrateMetadata(config.DATABASE_URL);
  if (mode === "migrate") return;

  const secretKey = persistentSecret(config, config.ANONBRANCH_SECRET_KEY, "secret-key");
  if (secretKey.created) log.warn(`ANONBRANCH_SECRET_KEY not set: generated one in ${config.ANONBRANCH_STATE_DIR}/secret-key`);
  const { sql, db } = openMetadataDb(config.DATABASE_URL);
  const boss = new PgBoss({ connectionString: config.DATABASE_URL, schema: "pgboss", max: 4 });
  boss.on("error", (error) => log.error("pg-boss error", { error }));
  await boss.start();
  await ensureQueues(boss);
  // API keys stay valid across restarts only if their signing secret does.
  const jwtSecret = persistentSecret(config, config.ANONBRANCH_JWT_SECRET, "jwt-secret");
  if (jwtSecret.created) log.warn(`ANONBRANCH_JWT_SECRET not set: generated one in ${config.ANONBRANCH_STATE_DIR}/jwt-secret`);
  const services: Services = {
    db,
    boss,
    secrets: new SecretBox(secretKey.value),
    config: { ...config, ANONBRANCH_JWT_SECRET: jwtSecret.value },
    log,
  };

  let server: ReturnType<typeof serve> | undefined;
  if (mode === "all" || mode === "api") {
    const token = persistentSecret(config, config.ANONBRANCH_ADMIN_TOKEN, "admin-token");
    if (token.created) {
      // Printed once, on stdout, when it is made; later starts read it from the file.
      process.stdout.write(`\nanonbranch admin token (kept in ${config.ANONBRANCH_STATE_DIR}/admin-token):\n  ${token.value}\n\n`);
    }
    const app = createApp({ services, auth: { adminToken: token.value } });
    server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) =>
      log.info(`api listening on http://${config.HOST}:${info.port}/api/v2`),
    );
  }
  if (mode === "all" || mode === "worker") {
    armCrashPoint(config.ANONBRANCH_CRASH_AT);
    await startWorker(services, { concurrency: config.ANONBRANCH_WORKER_CONCURRENCY });
    log.info("worker started", { concurrency: config.ANONBRANCH_WORKER_CONCURRENCY });
  }

  const shutdown = async (signal: string) => {
    log.info(`${signal}: shutting down`);
    server?.close();
    await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
    await sql.end({ timeout: 5 });
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

function fail(log: Logger, error: unknown): never {
  log.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}

const mode = (process.argv[2] ?? "all") as Mode;
if (!["all", "api", "worker", "migrate"].includes(mode)) {
  process.stderr.write(`usage: tsx src/main.ts [all|api|worker|migrate]\n`);
  process.exit(2);
}
main(mode).catch((error) => fail(createLogger("info"), error));
