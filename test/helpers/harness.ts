// The whole product in-process for a test file: a fresh metadata database, a
// real pg-boss, a real worker, the real Hono app, on the throwaway PostgreSQL
// (which is also the data plane). Calls go through app.request().
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import PgBoss from "pg-boss";
import { createApp } from "../../src/app.ts";
import { RateLimiter, type RateLimits } from "../../src/control/rate-limits.ts";
import type { PrincipalRole, Services } from "../../src/control/context.ts";
import { openChangeListener, openMetadataDb } from "../../src/db/client.ts";
import { migrateMetadata } from "../../src/db/migrate.ts";
import { startWorker } from "../../src/jobs/worker.ts";
import { listenForChanges, ReadCache } from "../../src/control/read-cache.ts";
import { shareDataPlaneConnections } from "../../src/dataplane/connection.ts";
import { startBranchEndpoints } from "../../src/endpoint/branch-endpoints.ts";
import { ensureEndpointCertificate } from "../../src/endpoint/index.ts";
import { createLogger } from "../../src/lib/log.ts";
import { SecretBox } from "../../src/lib/secrets.ts";
import { connect, testServerUrl } from "./pg.ts";

export interface ApiResponse<T = any> {
  status: number;
  body: T;
}

export interface MintKeyOptions {
  role: PrincipalRole;
  /** Project ids the key may touch (leave out for admin keys). */
  projects?: string[];
  name?: string;
  expiresInSeconds?: number;
}

/** A key as POST /api_keys answers it; `key` is the bearer token. */
export interface MintedKey {
  id: string;
  name: string;
  role: PrincipalRole;
  key: string;
}

export interface HarnessOptions {
  worker?: boolean;
  /** ANONBRANCH_OIDC_JWKS_URL: where OIDC tokens' signing keys are fetched (unset: OIDC refused). */
  oidcJwksUrl?: string;
  /** ANONBRANCH_OIDC_ISSUER (default: GitHub Actions' issuer). */
  oidcIssuer?: string;
  /** ANONBRANCH_MASKING_STRATEGY (default auto). */
  maskingStrategy?: "auto" | "anon";
  /** Start the endpoint proxy (default true). */
  endpoints?: boolean;
  /** ANONBRANCH_MAX_JOBS_PER_SERVER (default 2). */
  maxJobsPerServer?: number;
  /** Rate limits for the app (none when absent); flush with harness.flushRateLimits(). */
  rateLimits?: RateLimits;
  /** Any other configuration the services see. */
  config?: Partial<Services["config"]>;
  /** The metadata pool's size (default 5; the API part uses 10). */
  pool?: number;
  /**
   * "keep" (default): every log line, debug included, is kept in `logs` for tests to read. "discard": lines
   * at info and above are formatted, as in production, and dropped, so that a benchmark's heap does not grow
   * with one kept line per request.
   */
  logs?: "keep" | "discard";
}

export interface Harness {
  adminToken: string;
  /** For worker processes the test spawns itself: the same metadata database and key. */
  metadataUrl: string;
  secretKey: string;
  services: Services;
  logs: string[];
  /** The app's fetch, to serve it over real HTTP for clients such as Neon's SDK. */
  fetch: (request: Request) => Response | Promise<Response>;
  request<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<ApiResponse<T>>;
  /** Mints an API key through the real POST /api_keys, as the admin. */
  mintKey(options: MintKeyOptions): Promise<MintedKey>;
  /** Registers the test server's `databases` as a project through the real POST /projects, as the admin. */
  /**
   * Registers a project over the given shop databases and gives it masking
   * rules (by default: users.email of the first database), without which
   * developer and ci keys may not create branches.
   */
  registerProject(
    databases: string[],
    name?: string,
    maskingRules?: Record<string, unknown>[],
  ): Promise<{ projectId: string; defaultBranchId: string }>;
  /** The endpoint proxy's shared port (routed by options=endpoint=ep-… or SNI). */
  endpointSharedPort: number;
  /** Shares the app's rate-limit counts through the metadata database (what the API does every 250 ms). */
  flushRateLimits(): Promise<void>;
  /** Raw response of the app, headers included. */
  fetchRaw(method: string, path: string, token?: string): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const metadataName = `meta_${randomBytes(4).toString("hex")}`;
  const metadataUrl = testServerUrl(metadataName);
  await migrateMetadata(metadataUrl);
  const { sql, db } = openMetadataDb(metadataUrl, options.pool ?? 5);
  const logs: string[] = [];
  const log = options.logs === "discard" ? createLogger("info", () => {}) : createLogger("debug", (line) => logs.push(line));
  const boss = new PgBoss({ connectionString: metadataUrl, schema: "pgboss", max: 3, supervise: false });
  boss.on("error", (error) => log.error("pg-boss error", { error }));
  await boss.start();
  const adminToken = randomBytes(24).toString("base64url");
  const secretKey = randomBytes(32).toString("hex");
  const services: Services = {
    db,
    boss,
    secrets: new SecretBox(secretKey),
    config: {
      ANONBRANCH_CLONE_STRATEGY: "auto",
      ANONBRANCH_CLONE_WAL_LOG_MAX_MB: 64,
      ANONBRANCH_CI_MAX_TTL_SECONDS: 3600,
      ANONBRANCH_DEFAULT_TTL_SECONDS: 0,
      ANONBRANCH_JWT_SECRET: randomBytes(32).toString("base64url"),
      ANONBRANCH_OIDC_ISSUER: options.oidcIssuer ?? "https://token.actions.githubusercontent.com",
      ANONBRANCH_OIDC_JWKS_URL: options.oidcJwksUrl,
      ANONBRANCH_ENDPOINT_HOST: "127.0.0.1",
      ANONBRANCH_ENDPOINT_PORTS: await freePortRange(40),
      ANONBRANCH_ENDPOINT_PORT: 0,
      ANONBRANCH_ENDPOINT_DOMAIN: undefined,
      ANONBRANCH_MASKING_STRATEGY: options.maskingStrategy ?? "auto",
      ANONBRANCH_MASKING_PARALLELISM: 2,
      ANONBRANCH_MAX_JOBS_PER_SERVER: options.maxJobsPerServer ?? 2,
      ANONBRANCH_MIN_FREE_PERCENT: 10,
      ...options.config,
    },
    log,
  };
  let worker: { stop(): void } | undefined;
  if (options.worker !== false) worker = await startWorker(services, { concurrency: 2, pollingIntervalSeconds: 0.5 });
  else {
    const { ensureQueues } = await import("../../src/jobs/queues.ts");
    await ensureQueues(boss);
  }
  // As the API process runs: hot reads cached, invalidated by the metadata triggers' NOTIFYs.
  shareDataPlaneConnections();
  services.cache = new ReadCache();
  const changes = await listenForChanges(services.cache, () => openChangeListener(metadataUrl));
  const rateLimiter = options.rateLimits ? new RateLimiter(options.rateLimits) : undefined;
  const app = createApp({ services, auth: { adminToken }, ...(rateLimiter ? { rateLimiter } : {}) });
  // The endpoint proxy, in-process, on this harness's port range (plus a shared port).
  // Test files run in parallel: a range another harness took meanwhile means another try.
  const stateDir = mkdtempSync(join(tmpdir(), "anonbranch-harness-"));
  const endpointShared = await freePort();
  const tls = await ensureEndpointCertificate(stateDir, ["localhost", "127.0.0.1"]);
  let endpoints: Awaited<ReturnType<typeof startBranchEndpoints>> | null = null;
  for (let attempt = 1; options.endpoints !== false && !endpoints; attempt++) {
    try {
      endpoints = await startBranchEndpoints(services, {
        listenHost: "127.0.0.1",
        ports: services.config.ANONBRANCH_ENDPOINT_PORTS,
        sharedPort: endpointShared,
        tls,
        limits: { maxClients: 200, authTimeoutMs: 10_000, idleTimeoutMs: 0, maxStartupBytes: 16_384 },
        sessionsPerBranch: 8,
      });
    } catch (error) {
      if (attempt >= 5 || !/EADDRINUSE/.test(String((error as Error).cause ?? error))) throw error;
      services.config.ANONBRANCH_ENDPOINT_PORTS = await freePortRange(40);
    }
  }

  const harness: Harness = {
    adminToken,
    metadataUrl,
    secretKey,
    fetch: (request) => app.fetch(request),
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
    async mintKey({ role, projects, name, expiresInSeconds }) {
      const res = await harness.request("POST", "/api_keys", {
        name: name ?? `${role}-${randomBytes(3).toString("hex")}`,
        role,
        project_ids: projects,
        expires_in_seconds: expiresInSeconds,
      });
      if (res.status !== 201) throw new Error(`POST /api_keys answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body as MintedKey;
    },
    async registerProject(databases, name = "shop", maskingRules) {
      const res = await harness.request("POST", "/projects", {
        project: { name, source: { connection_uri: testServerUrl("postgres"), databases } },
      });
      if (res.status !== 201) throw new Error(`POST /projects answered ${res.status}: ${JSON.stringify(res.body)}`);
      const rules = maskingRules ?? [
        {
          database_name: databases[0],
          schema_name: "public",
          table_name: "users",
          column_name: "email",
          masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')",
        },
      ];
      const put = await harness.request("PUT", `/projects/${res.body.project.id}/masking_rules`, { masking_rules: rules });
      if (put.status !== 200) throw new Error(`PUT masking_rules answered ${put.status}: ${JSON.stringify(put.body)}`);
      return { projectId: res.body.project.id, defaultBranchId: res.body.branch.id };
    },
    async flushRateLimits() {
      await rateLimiter?.flush(db);
    },
    fetchRaw(method, path, token = adminToken) {
      return Promise.resolve(app.request(`/api/v2${path}`, { method, headers: { authorization: `Bearer ${token}` } }));
    },
    endpointSharedPort: endpointShared,
    async close() {
      worker?.stop();
      await endpoints?.close();
      rmSync(stateDir, { recursive: true, force: true });
      // Let a job in flight finish (it holds a reserved metadata connection, which
      // postgres.js's end() would otherwise wait for forever), then close.
      await boss.stop({ graceful: true, wait: true, timeout: 15_000 });
      await changes.stop();
      await sql.end({ timeout: 5 });
      const admin = connect(testServerUrl(), { max: 1 });
      await admin.unsafe(`DROP DATABASE IF EXISTS "${metadataName}" WITH (FORCE)`);
      await admin.end();
    },
  };
  return harness;
}

/**
 * A range of ports for this harness's endpoints. Test files run in parallel,
 * each with its own metadata database (hence its own port allocation), so
 * each takes a random range whose ports are free now.
 */
export async function freePortRange(size: number): Promise<{ first: number; last: number }> {
  for (;;) {
    // Below the kernel's ephemeral ports (32768+), which outgoing connections take at any time.
    const first = 10_000 + Math.floor(Math.random() * Math.floor(22_000 / size)) * size;
    const free = await Promise.all(
      Array.from({ length: size }, (_, i) => canListen(first + i)),
    );
    if (free.every(Boolean)) return { first, last: first + size - 1 };
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
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
