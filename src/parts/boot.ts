// What every part of the Node service starts from: the configuration, the
// secrets (from the environment, or generated once into the state directory),
// the metadata pool and pg-boss.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import PgBoss from "pg-boss";
import type { Config } from "../config.ts";
import type { Services } from "../control/context.ts";
import { openMetadataDb, type MetadataDb } from "../db/client.ts";
import { noteOutage } from "../jobs/outage.ts";
import { isConnectionFailure } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { SecretBox } from "../lib/secrets.ts";

export interface Secrets {
  adminToken: string;
  secretKey: string;
  jwtSecret: string;
}

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

/**
 * Resolves the three secrets once. The supervisor does it before starting its
 * parts and hands them down, so two parts never race to generate one.
 */
export function resolveSecrets(config: Config, log: Logger, withAdminToken: boolean): Secrets {
  const secretKey = persistentSecret(config, config.ANONBRANCH_SECRET_KEY, "secret-key");
  if (secretKey.created) log.warn(`ANONBRANCH_SECRET_KEY not set: generated one in ${config.ANONBRANCH_STATE_DIR}/secret-key`);
  // API keys stay valid across restarts only if their signing secret does.
  const jwtSecret = persistentSecret(config, config.ANONBRANCH_JWT_SECRET, "jwt-secret");
  if (jwtSecret.created) log.warn(`ANONBRANCH_JWT_SECRET not set: generated one in ${config.ANONBRANCH_STATE_DIR}/jwt-secret`);
  let adminToken = "";
  if (withAdminToken) {
    const token = persistentSecret(config, config.ANONBRANCH_ADMIN_TOKEN, "admin-token");
    if (token.created) {
      // Printed once, on stdout, when it is made; later starts read it from the file.
      process.stdout.write(`\nanonbranch admin token (kept in ${config.ANONBRANCH_STATE_DIR}/admin-token):\n  ${token.value}\n\n`);
    }
    adminToken = token.value;
  }
  return { adminToken, secretKey: secretKey.value, jwtSecret: jwtSecret.value };
}

/** The environment a supervised part gets: the parent's, with the secrets resolved. */
export function secretsEnv(secrets: Secrets): Record<string, string> {
  return {
    ANONBRANCH_ADMIN_TOKEN: secrets.adminToken,
    ANONBRANCH_SECRET_KEY: secrets.secretKey,
    ANONBRANCH_JWT_SECRET: secrets.jwtSecret,
  };
}

export interface Booted {
  services: Services;
  metadata: MetadataDb;
}

/**
 * Opens the metadata pool and pg-boss. `work`: this process runs jobs (pg-boss
 * supervision on; a larger pool, since each job reserves a connection for its
 * branch lock).
 */
export async function bootServices(config: Config, secrets: Secrets, log: Logger, options: { work: boolean }): Promise<Booted> {
  const pool = options.work ? Math.max(10, config.ANONBRANCH_WORKER_CONCURRENCY * 5 + 4) : 10;
  const metadata = openMetadataDb(config.DATABASE_URL, pool);
  const boss = new PgBoss({ connectionString: config.DATABASE_URL, schema: "pgboss", max: 4, supervise: options.work, schedule: false });
  boss.on("error", (error) => {
    // pg-boss keeps polling through an outage; maintenance needs to know one happened.
    if (isConnectionFailure(error)) noteOutage();
    log.error("pg-boss error", { error });
  });
  await boss.start();
  const services: Services = {
    db: metadata.db,
    boss,
    secrets: new SecretBox(secrets.secretKey),
    config: { ...config, ANONBRANCH_JWT_SECRET: secrets.jwtSecret },
    log,
  };
  return { services, metadata };
}
