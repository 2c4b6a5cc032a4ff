// OIDC trust policies: which GitHub Actions workflows (issuer, audience,
// repository; optionally ref, the immutable repository and owner ids,
// environment, job_workflow_ref) may act on a project, and as which role.
import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { oidcTrustPolicies, projects } from "../db/schema.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { loadProject, requireAdmin } from "./access.ts";
import { recordAudit } from "./audit.ts";
import type { Principal, Services } from "./context.ts";

type PolicyRow = typeof oidcTrustPolicies.$inferSelect;

export function presentTrustPolicy(p: PolicyRow) {
  const nameOnly = p.repositoryId === null && p.repositoryOwnerId === null;
  return {
    id: p.id,
    project_id: p.projectId,
    issuer: p.issuer,
    audience: p.audience,
    repository: p.repository,
    ref: p.ref,
    repository_id: p.repositoryId,
    repository_owner_id: p.repositoryOwnerId,
    environment: p.environment,
    job_workflow_ref: p.jobWorkflowRef,
    role: p.role,
    trusts_name_only: nameOnly,
    ...(nameOnly
      ? {
          warning: `this policy trusts the repository name ${p.repository} alone: if that owner or repository is deleted or renamed, whoever registers the name again gets its tokens; pin repository_id (and repository_owner_id)`,
        }
      : {}),
    created_at: p.createdAt.toISOString(),
  };
}

export interface CreateTrustPolicyInput {
  issuer?: string;
  audience: string;
  repository: string;
  ref?: string;
  repository_id?: string;
  repository_owner_id?: string;
  environment?: string;
  job_workflow_ref?: string;
  role?: "developer" | "ci";
}

export async function createTrustPolicy(svc: Services, principal: Principal, projectId: string, input: CreateTrustPolicyInput) {
  requireAdmin(principal);
  const trusted = svc.config.ANONBRANCH_OIDC_ISSUER;
  const issuer = input.issuer ?? trusted;
  // Tokens are verified against one issuer's keys (ANONBRANCH_OIDC_JWKS_URL): a policy
  // naming another issuer could never match, so it is refused rather than kept dead.
  if (issuer !== trusted) {
    throw invalid(`issuer: this server trusts OIDC tokens from ${trusted} only (ANONBRANCH_OIDC_ISSUER)`);
  }
  return svc.db.transaction(async (tx) => {
    await loadProject(tx, principal, projectId);
    const [row] = await tx
      .insert(oidcTrustPolicies)
      .values({
        projectId,
        issuer,
        audience: input.audience,
        repository: input.repository,
        ref: input.ref ?? null,
        repositoryId: input.repository_id ?? null,
        repositoryOwnerId: input.repository_owner_id ?? null,
        environment: input.environment ?? null,
        jobWorkflowRef: input.job_workflow_ref ?? null,
        role: input.role ?? "ci",
      })
      .returning();
    const shown = presentTrustPolicy(row!);
    await recordAudit(tx, principal, { action: "trust_policy.create", projectId, after: shown });
    return { trust_policy: shown };
  });
}

export async function listTrustPolicies(svc: Services, principal: Principal, projectId: string) {
  requireAdmin(principal);
  await loadProject(svc.db, principal, projectId);
  const rows = await svc.db
    .select()
    .from(oidcTrustPolicies)
    .where(eq(oidcTrustPolicies.projectId, projectId))
    .orderBy(asc(oidcTrustPolicies.createdAt), asc(oidcTrustPolicies.id));
  return { trust_policies: rows.map(presentTrustPolicy) };
}

export async function deleteTrustPolicy(svc: Services, principal: Principal, projectId: string, policyId: string) {
  requireAdmin(principal);
  return svc.db.transaction(async (tx) => {
    await loadProject(tx, principal, projectId);
    const [row] = await tx
      .delete(oidcTrustPolicies)
      .where(and(eq(oidcTrustPolicies.id, policyId), eq(oidcTrustPolicies.projectId, projectId)))
      .returning();
    if (!row) throw notFound(`trust policy ${policyId} in project ${projectId}`);
    const shown = presentTrustPolicy(row);
    await recordAudit(tx, principal, { action: "trust_policy.delete", projectId, before: shown });
    return { trust_policy: shown };
  });
}

export interface OidcIdentity {
  issuer: string;
  audiences: string[];
  repository: string;
  ref: string | undefined;
  repositoryId: string | undefined;
  repositoryOwnerId: string | undefined;
  environment: string | undefined;
  jobWorkflowRef: string | undefined;
}

/** A policy's optional pin holds when unset, or equal to the token's claim. */
const pinned = (policy: string | null, claim: string | undefined): boolean => policy === null || policy === claim;

/**
 * Policies of live projects that trust this issuer and one of the token's
 * audiences (`trusted`), and of those the ones whose repository — and ref,
 * when the policy names one — match exactly (`matching`).
 */
export async function matchTrustPolicies(db: Db, id: OidcIdentity): Promise<{ trusted: PolicyRow[]; matching: PolicyRow[] }> {
  if (id.audiences.length === 0) return { trusted: [], matching: [] };
  const rows = await db
    .select({ policy: oidcTrustPolicies })
    .from(oidcTrustPolicies)
    .innerJoin(projects, and(eq(projects.id, oidcTrustPolicies.projectId), isNull(projects.deletedAt)))
    .where(and(eq(oidcTrustPolicies.issuer, id.issuer), inArray(oidcTrustPolicies.audience, id.audiences)));
  const trusted = rows.map((r) => r.policy);
  const matching = trusted.filter(
    (p) =>
      p.repository === id.repository &&
      pinned(p.ref, id.ref) &&
      pinned(p.repositoryId, id.repositoryId) &&
      pinned(p.repositoryOwnerId, id.repositoryOwnerId) &&
      pinned(p.environment, id.environment) &&
      pinned(p.jobWorkflowRef, id.jobWorkflowRef),
  );
  return { trusted, matching };
}
