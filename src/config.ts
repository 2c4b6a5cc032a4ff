// Environment → typed configuration, parsed once at the entry point and passed
// down. Nothing below src/main.ts reads process.env.
import { z } from "zod";

const ConfigSchema = z.object({
  DATABASE_URL: z.string().url().default("postgresql://postgres@127.0.0.1:5432/anonbranch"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default("127.0.0.1"),
  ANONBRANCH_ADMIN_TOKEN: z.string().min(16, "ANONBRANCH_ADMIN_TOKEN must be at least 16 characters").optional(),
  ANONBRANCH_SECRET_KEY: z.string().min(16, "ANONBRANCH_SECRET_KEY must be at least 16 characters").optional(),
  /** HS256 secret that signs API keys; when unset, src/main.ts generates one into the state dir. */
  ANONBRANCH_JWT_SECRET: z.string().min(32, "ANONBRANCH_JWT_SECRET must be at least 32 characters").optional(),
  /** Issuer of GitHub Actions OIDC tokens: the only issuer trusted, and the default of new trust policies. */
  ANONBRANCH_OIDC_ISSUER: z.string().url().default("https://token.actions.githubusercontent.com"),
  /** JWKS of that issuer (GitHub: <issuer>/.well-known/jwks); OIDC tokens are refused while unset. */
  ANONBRANCH_OIDC_JWKS_URL: z.string().url().optional(),
  ANONBRANCH_STATE_DIR: z.string().default(".anonbranch"),
  ANONBRANCH_CLONE_STRATEGY: z.enum(["FILE_COPY", "WAL_LOG"]).default("FILE_COPY"),
  ANONBRANCH_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Longest lifetime a `ci` principal may give a branch (expires_at is mandatory for ci). */
  ANONBRANCH_CI_MAX_TTL_SECONDS: z.coerce.number().int().min(60).default(7 * 24 * 3600),
  /** Lifetime given to anonymized branches created without expires_at; 0 = none (Neon's console uses one day). */
  ANONBRANCH_DEFAULT_TTL_SECONDS: z.coerce.number().int().min(0).default(0),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** Reliability tests only: the named crash point (src/jobs/crash-points.ts) kills the worker. */
  ANONBRANCH_CRASH_AT: z.string().optional(),
});

export type Config = z.infer<typeof ConfigSchema>;

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = ConfigSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}
