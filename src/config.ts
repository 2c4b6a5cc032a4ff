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
  /** CREATE DATABASE … STRATEGY; auto: WAL_LOG for parents up to ANONBRANCH_CLONE_WAL_LOG_MAX_MB, FILE_COPY above (src/dataplane/clone.ts). */
  ANONBRANCH_CLONE_STRATEGY: z.enum(["auto", "FILE_COPY", "WAL_LOG"]).default("auto"),
  ANONBRANCH_CLONE_WAL_LOG_MAX_MB: z.coerce.number().min(0).default(64),
  ANONBRANCH_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** auto: one-pass rewrite where a table allows it, anon.anonymize_table() + VACUUM FULL elsewhere; anon: always the latter. */
  ANONBRANCH_MASKING_STRATEGY: z.enum(["auto", "anon"]).default("auto"),
  /** Tables of one database masked at once, each on its own connection. */
  ANONBRANCH_MASKING_PARALLELISM: z.coerce.number().int().min(1).max(32).default(2),
  /** A clone is refused when it would leave less than this share of the data-plane server's disk free (local servers only). */
  ANONBRANCH_MIN_FREE_PERCENT: z.coerce.number().min(0).max(100).default(10),
  /** Clone or masking jobs that may run at once on one data-plane server (all workers together); 0 = no bound. */
  ANONBRANCH_MAX_JOBS_PER_SERVER: z.coerce.number().int().min(0).max(1000).default(2),
  /** Longest lifetime a `ci` principal may give a branch (expires_at is mandatory for ci). */
  ANONBRANCH_CI_MAX_TTL_SECONDS: z.coerce.number().int().min(60).default(7 * 24 * 3600),
  /** Lifetime given to anonymized branches created without expires_at; 0 = none (Neon's console uses one day). */
  ANONBRANCH_DEFAULT_TTL_SECONDS: z.coerce.number().int().min(0).default(0),
  /** Host name clients are given for branch endpoints (the proxy's address as they reach it). */
  ANONBRANCH_ENDPOINT_HOST: z.string().min(1).default("127.0.0.1"),
  /** Address the endpoint proxy listens on. */
  ANONBRANCH_ENDPOINT_LISTEN: z.string().min(1).default("127.0.0.1"),
  /** Ports given to branch endpoints, one each ("first-last"). */
  ANONBRANCH_ENDPOINT_PORTS: z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, "ANONBRANCH_ENDPOINT_PORTS must look like 55400-55999")
    .default("55400-55999")
    .transform((s, ctx) => {
      const [first, last] = s.split("-").map(Number) as [number, number];
      if (first < 1 || last > 65535 || first > last) {
        ctx.addIssue({ code: "custom", message: "ANONBRANCH_ENDPOINT_PORTS: a range of ports first-last within 1-65535" });
        return z.NEVER;
      }
      return { first, last };
    }),
  /** The proxy's shared port: connections routed by TLS SNI (ep-….<domain>) or options=endpoint=ep-…. */
  ANONBRANCH_ENDPOINT_PORT: z.coerce.number().int().min(1).max(65535).default(55399),
  /** With a wildcard DNS name *.<domain> on the proxy, endpoints are ep-….<domain> on the shared port. */
  ANONBRANCH_ENDPOINT_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i, "ANONBRANCH_ENDPOINT_DOMAIN must be a DNS name")
    .optional(),
  /** PEM certificate and key for the endpoints' TLS; generated once into the state dir when unset. */
  ANONBRANCH_ENDPOINT_TLS_CERT: z.string().optional(),
  ANONBRANCH_ENDPOINT_TLS_KEY: z.string().optional(),
  /** Concurrent sessions the proxy serves in all, and per branch. */
  ANONBRANCH_ENDPOINT_MAX_CLIENTS: z.coerce.number().int().min(1).default(1000),
  ANONBRANCH_ENDPOINT_SESSIONS_PER_BRANCH: z.coerce.number().int().min(1).max(1000).default(32),
  /** A relayed session with no traffic for this long is closed; 0 = never. */
  ANONBRANCH_ENDPOINT_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(0).default(3600),
  /** Requests per minute per API key or OIDC principal, all routes together (Neon: 700); 0 = off. */
  ANONBRANCH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(700),
  /** Requests per second per principal on one route (Neon: 40); 0 = off. */
  ANONBRANCH_RATE_LIMIT_BURST_PER_SECOND: z.coerce.number().int().min(0).default(40),
  /** Requests per minute for admin principals; 0 (the default) = not limited. */
  ANONBRANCH_RATE_LIMIT_ADMIN_PER_MINUTE: z.coerce.number().int().min(0).default(0),
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
