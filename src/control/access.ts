// Authorisation and lookups shared by the verbs.
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db, Tx } from "../db/client.ts";
import { anonymizationRuns, branches, operations, projects } from "../db/schema.ts";
import { forbidden, invalid, locked, notFound } from "../lib/errors.ts";
import type { Principal, Services } from "./context.ts";
import { readThrough } from "./read-cache.ts";

export function requireAdmin(principal: Principal): void {
  if (principal.role !== "admin") {
    throw forbidden(`this action needs an admin key; ${principal.name} is ${principal.role}`);
  }
}

/**
 * The expiry a new branch gets: what the caller asked for, else the server's
 * default TTL. `ci` principals must set one, no further out than the maximum.
 */
export function branchExpiry(principal: Principal, requested: Date | null, config: Services["config"]): Date | null {
  const now = Date.now();
  if (requested && requested.getTime() <= now) throw invalid("branch_create.branch.expires_at: must be in the future");
  if (principal.role === "ci") {
    const max = config.ANONBRANCH_CI_MAX_TTL_SECONDS;
    if (!requested) throw invalid(`branch_create.branch.expires_at: required for ci keys (at most ${max} s ahead)`);
    if (requested.getTime() - now > max * 1000) {
      throw invalid(`branch_create.branch.expires_at: ci keys may set it at most ${max} s ahead`);
    }
  }
  if (requested) return requested;
  return config.ANONBRANCH_DEFAULT_TTL_SECONDS > 0 ? new Date(now + config.ANONBRANCH_DEFAULT_TTL_SECONDS * 1000) : null;
}

export function canTouchProject(principal: Principal, projectId: string): boolean {
  return principal.projects === "*" || principal.projects.includes(projectId);
}

export async function loadProject(db: Db | Tx, principal: Principal, projectId: string) {
  if (!canTouchProject(principal, projectId)) {
    throw forbidden(`${principal.name} (${principal.role}) has no access to project ${projectId}`);
  }
  const [project] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.id, projectId), isNull(projects.deletedAt)));
  if (!project) throw notFound(`project ${projectId}`);
  return project;
}

export async function loadBranch(db: Db | Tx, projectId: string, branchId: string, options: { forUpdate?: boolean } = {}) {
  const query = db
    .select()
    .from(branches)
    .where(and(eq(branches.id, branchId), eq(branches.projectId, projectId), isNull(branches.deletedAt)));
  const [branch] = options.forUpdate ? await query.for("update") : await query;
  if (!branch) throw notFound(`branch ${branchId}`);
  return branch;
}

/** The project's default branch (`main`), whose databases are the parents. */
export async function loadDefaultBranch(db: Db | Tx, projectId: string) {
  const [main] = await db
    .select()
    .from(branches)
    .where(and(eq(branches.projectId, projectId), eq(branches.isDefault, true), isNull(branches.deletedAt)));
  if (!main) throw notFound(`default branch of project ${projectId}`);
  return main;
}

/** Per-branch work is serialised: a branch with work in flight answers 423. */
export async function assertBranchIdle(tx: Tx, branchId: string): Promise<void> {
  const [busy] = await tx
    .select({ id: operations.id, action: operations.action })
    .from(operations)
    .where(and(eq(operations.branchId, branchId), inArray(operations.status, ["scheduling", "running"])))
    .limit(1);
  if (busy) {
    throw locked(`branch ${branchId} is busy with operation ${busy.action} (${busy.id}); retry when it has finished`);
  }
}

/**
 * A live branch of a live project with its latest anonymization run, in one
 * query (the status and branch reads are the API's hottest paths), served from
 * the process's read cache when there is one. Errors as loadProject/loadBranch.
 */
export async function loadBranchView(svc: Services, principal: Principal, projectId: string, branchId: string) {
  if (!canTouchProject(principal, projectId)) {
    throw forbidden(`${principal.name} (${principal.role}) has no access to project ${projectId}`);
  }
  const row = await readThrough(svc.cache, `branch:${projectId}:${branchId}`, () => loadBranchViewRow(svc.db, projectId, branchId));
  if (row) return row;
  // Not there: say which of the two is missing.
  await loadProject(svc.db, principal, projectId);
  throw notFound(`branch ${branchId}`);
}

/** A branch with its latest run: one object per read-cache entry, so what is presented from it can be kept (src/lib/memo.ts). */
export type BranchView = NonNullable<Awaited<ReturnType<typeof loadBranchViewRow>>>;

async function loadBranchViewRow(db: Db, projectId: string, branchId: string) {
  const [row] = await db
    .select({ branch: branches, run: anonymizationRuns })
    .from(branches)
    .innerJoin(projects, and(eq(projects.id, branches.projectId), isNull(projects.deletedAt)))
    .leftJoin(
      anonymizationRuns,
      eq(
        anonymizationRuns.id,
        sql`(SELECT r.id FROM anonymization_runs r WHERE r.branch_id = ${branches.id} ORDER BY r.created_at DESC LIMIT 1)`,
      ),
    )
    .where(and(eq(branches.id, branchId), eq(branches.projectId, projectId), isNull(branches.deletedAt)));
  return row ? { branch: row.branch, run: row.run ?? undefined } : null;
}
