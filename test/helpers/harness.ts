// The whole product in-process for a test file: a fresh metadata database, a
// real pg-boss, a real worker, the real Hono app, on the throwaway PostgreSQL
// (which is also the data plane). Calls go through app.request().
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import PgBoss from "pg-boss";
import { createApp } from "../../src/app.ts";
import type { PrincipalRole, Services } from "../../src/control/context.ts";
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
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
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
  const secretKey = randomBytes(32).toString("hex");
  const services: Services = {
    db,
    boss,
    secrets: new SecretBox(secretKey),
    config: {
      ANONBRANCH_CLONE_STRATEGY: "FILE_COPY",
      ANONBRANCH_CI_MAX_TTL_SECONDS: 3600,
      ANONBRANCH_DEFAULT_TTL_SECONDS: 0,
      ANONBRANCH_JWT_SECRET: randomBytes(32).toString("base64url"),
      ANONBRANCH_OIDC_ISSUER: options.oidcIssuer ?? "https://token.actions.githubusercontent.com",
      ANONBRANCH_OIDC_JWKS_URL: options.oidcJwksUrl,
    },
    log,
  };
  if (options.worker !== false) await startWorker(services, { concurrency: 2, pollingIntervalSeconds: 0.5 });
  else {
    const { ensureQueues } = await import("../../src/jobs/queues.ts");
    await ensureQueues(boss);
  }
  const app = createApp({ services, auth: { adminToken } });

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
    async close() {
      await boss.stop({ graceful: false, wait: true, timeout: 5000 });
      await sql.end();
      const admin = connect(testServerUrl(), { max: 1 });
      await admin.unsafe(`DROP DATABASE IF EXISTS "${metadataName}" WITH (FORCE)`);
      await admin.end();
    },
  };
  return harness;
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
