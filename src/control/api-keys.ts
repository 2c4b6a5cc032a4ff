// API keys: HS256 JWTs signed with ANONBRANCH_JWT_SECRET. The signature proves
// we issued a token; its api_keys row (id = sub = jti) makes it listable and
// revocable, and src/api/auth.ts checks that row on every request.
import { and, asc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { SignJWT } from "jose";
import type { Db } from "../db/client.ts";
import { apiKeys, projects } from "../db/schema.ts";
import { DomainError, invalid, notFound } from "../lib/errors.ts";
import { requireAdmin } from "./access.ts";
import { recordAudit } from "./audit.ts";
import type { Principal, PrincipalRole, Services } from "./context.ts";

/** `iss` of every key we mint; a bearer JWT with another issuer is not one of ours. */
export const API_KEY_ISSUER = "anonbranch";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** The HS256 key for ANONBRANCH_JWT_SECRET; refused when the deployment has none (e.g. Workers without the secret). */
export function apiKeySecret(config: Services["config"]): Uint8Array {
  if (!config.ANONBRANCH_JWT_SECRET) {
    throw new DomainError("unavailable", "API_KEYS_NOT_CONFIGURED", "API keys are not configured on this server: set ANONBRANCH_JWT_SECRET");
  }
  return new TextEncoder().encode(config.ANONBRANCH_JWT_SECRET);
}

export function presentApiKey(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    project_ids: row.projectIds,
    created_at: row.createdAt.toISOString(),
    created_by: row.createdBy,
    expires_at: row.expiresAt?.toISOString() ?? null,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked: row.revokedAt !== null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}

export interface CreateApiKeyInput {
  name: string;
  role: PrincipalRole;
  project_ids?: string[];
  expires_in_seconds?: number;
}

/** Mints a key; the token is returned here and only here (it is never stored). */
export async function createApiKey(svc: Services, principal: Principal, input: CreateApiKeyInput) {
  requireAdmin(principal);
  const secret = apiKeySecret(svc.config);
  const wanted = [...new Set(input.project_ids ?? [])];
  if (input.role === "admin" && wanted.length > 0) {
    throw invalid("project_ids: admin keys reach every project; leave project_ids out");
  }
  if (input.role !== "admin" && wanted.length === 0) {
    throw invalid(`project_ids: a ${input.role} key needs at least one project id`);
  }
  const exp = input.expires_in_seconds ? Math.floor(Date.now() / 1000) + input.expires_in_seconds : undefined;

  return svc.db.transaction(async (tx) => {
    if (wanted.length > 0) {
      const found = await tx
        .select({ id: projects.id })
        .from(projects)
        .where(and(inArray(projects.id, wanted), isNull(projects.deletedAt)));
      const known = new Set(found.map((p) => p.id));
      const missing = wanted.filter((id) => !known.has(id));
      if (missing.length > 0) throw invalid(`project_ids: project ${missing.join(", ")} does not exist`);
    }
    const [row] = await tx
      .insert(apiKeys)
      .values({
        name: input.name,
        role: input.role,
        projectIds: input.role === "admin" ? null : wanted,
        createdBy: principal.id,
        expiresAt: exp ? new Date(exp * 1000) : null,
      })
      .returning();
    const jwt = new SignJWT({ role: row!.role, projects: row!.projectIds ?? "*" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(API_KEY_ISSUER)
      .setSubject(row!.id)
      .setJti(row!.id)
      .setIssuedAt();
    if (exp) jwt.setExpirationTime(exp);
    const key = await jwt.sign(secret);
    const shown = presentApiKey(row!);
    await recordAudit(tx, principal, { action: "api_key.create", projectId: null, after: shown });
    return { ...shown, key };
  });
}

export async function listApiKeys(svc: Services, principal: Principal) {
  requireAdmin(principal);
  const rows = await svc.db.select().from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
  return { api_keys: rows.map(presentApiKey) };
}

/** Revocation takes effect on the key's next request. Revoking twice answers the first revocation. */
export async function revokeApiKey(svc: Services, principal: Principal, keyId: string) {
  requireAdmin(principal);
  return svc.db.transaction(async (tx) => {
    const [row] = await tx.select().from(apiKeys).where(eq(apiKeys.id, keyId)).for("update");
    if (!row) throw notFound(`api key ${keyId}`);
    if (row.revokedAt) return presentApiKey(row);
    const [revoked] = await tx.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, keyId)).returning();
    const shown = presentApiKey(revoked!);
    await recordAudit(tx, principal, { action: "api_key.revoke", projectId: null, before: presentApiKey(row), after: shown });
    return shown;
  });
}

/** The row behind a verified token, for src/api/auth.ts. */
export async function findApiKey(db: Db, keyId: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, keyId));
  return row;
}

const touchEveryMs = 60_000;

/** Whether the row says the key's use was recorded within the last minute (then markApiKeyUsed writes nothing). */
export const usedRecently = (row: ApiKeyRow, now = Date.now()): boolean => row.lastUsedAt !== null && now - row.lastUsedAt.getTime() < touchEveryMs;

/** Records use at most once a minute per key, so most requests cost one primary-key SELECT and no write. */
export async function markApiKeyUsed(db: Db, row: ApiKeyRow): Promise<void> {
  if (usedRecently(row)) return;
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(apiKeys.id, row.id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`))));
}
