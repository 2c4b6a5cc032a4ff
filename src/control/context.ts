// What every verb needs, passed in once by the entry point.
import type PgBoss from "pg-boss";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { SecretBox } from "../lib/secrets.ts";
import type { Logger } from "../lib/log.ts";
import type { ReadCache } from "./read-cache.ts";

export type PrincipalRole = "admin" | "developer" | "ci";

/** Who is calling: resolved by src/api/auth.ts, checked by the verbs. */
export interface Principal {
  id: string;
  name: string;
  role: PrincipalRole;
  /** Project ids this principal may touch; "*" for all. */
  projects: readonly string[] | "*";
  /** The request this principal acts in, for the audit log. */
  requestId?: string;
}

export interface Services {
  db: Db;
  boss: PgBoss;
  secrets: SecretBox;
  config: Pick<
    Config,
    | "ANONBRANCH_CLONE_STRATEGY"
    | "ANONBRANCH_CLONE_WAL_LOG_MAX_MB"
    | "ANONBRANCH_CI_MAX_TTL_SECONDS"
    | "ANONBRANCH_DEFAULT_TTL_SECONDS"
    | "ANONBRANCH_JWT_SECRET"
    | "ANONBRANCH_OIDC_ISSUER"
    | "ANONBRANCH_OIDC_JWKS_URL"
    | "ANONBRANCH_ENDPOINT_HOST"
    | "ANONBRANCH_ENDPOINT_PORTS"
    | "ANONBRANCH_ENDPOINT_PORT"
    | "ANONBRANCH_ENDPOINT_DOMAIN"
    | "ANONBRANCH_MASKING_STRATEGY"
    | "ANONBRANCH_MASKING_PARALLELISM"
    | "ANONBRANCH_MAX_JOBS_PER_SERVER"
    | "ANONBRANCH_MIN_FREE_PERCENT"
  >;
  log: Logger;
  /** Node's API process: hot reads cached, kept correct by change notifications (read-cache.ts). */
  cache?: ReadCache;
}
