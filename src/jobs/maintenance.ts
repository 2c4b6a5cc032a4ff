// The maintenance job, every few seconds through pg-boss (a `short` queue keeps
// exactly one queued, however many workers run): delete expired branches and
// resume jobs whose worker died.
import { enqueueJob } from "./enqueue.ts";
import { and, eq, gt, isNotNull, isNull, lte, or, sql } from "drizzle-orm";
import type { Principal, Services } from "../control/context.ts";
import { deleteBranchInTx } from "../control/branches.ts";
import { recordAudit } from "../control/audit.ts";
import { branches, operations, projects } from "../db/schema.ts";
import { describeError, withDataPlane } from "../dataplane/connection.ts";
import { closeStrayWindows } from "../dataplane/login.ts";
import { branchRolePrefix } from "../dataplane/names.ts";
import { isBranchIdle } from "./branch-lock.ts";
import { queues } from "./queues.ts";
import { setAnonState } from "./branch-state.ts";
import { jobFor } from "./job-for.ts";
import { resumeNow } from "./outage.ts";

export const MAINTENANCE_INTERVAL_SECONDS = 5;
/** Attempts after which an interrupted operation is failed instead of resumed. */
const MAX_RESUMES = 5;

const system: Principal = { id: "system", name: "anonbranch", role: "admin", projects: "*" };

export async function scheduleMaintenance(svc: Services, afterSeconds = 0): Promise<void> {
  await svc.boss.send(queues.maintenance, {}, { singletonKey: "maintenance", startAfter: afterSeconds, retryLimit: 0 });
}

export async function runMaintenance(svc: Services): Promise<void> {
  try {
    await expireBranches(svc);
    await resumeInterruptedJobs(svc);
    await closeStrayLoginWindows(svc);
  } finally {
    await scheduleMaintenance(svc, MAINTENANCE_INTERVAL_SECONDS);
  }
}

/** Deletes branches past their expires_at: databases dropped WITH (FORCE), role dropped. */
export async function expireBranches(svc: Services): Promise<number> {
  const due = await svc.db
    .select({ id: branches.id })
    .from(branches)
    .where(and(isNull(branches.deletedAt), isNotNull(branches.expiresAt), lte(branches.expiresAt, new Date()), eq(branches.isDefault, false)));
  let expired = 0;
  for (const { id } of due) {
    await svc.db.transaction(async (tx) => {
      const [branch] = await tx
        .select()
        .from(branches)
        .where(and(eq(branches.id, id), isNull(branches.deletedAt), lte(branches.expiresAt, new Date())))
        .for("update", { skipLocked: true });
      if (!branch) return;
      await deleteBranchInTx(svc, tx, branch, { force: true });
      await recordAudit(tx, system, { action: "branch.expire", projectId: branch.projectId, branchId: branch.id, before: { expires_at: branch.expiresAt } });
      expired += 1;
    });
  }
  if (expired > 0) svc.log.info("expired branches deleted", { count: expired });
  return expired;
}

/**
 * An operation marked running whose branch lock is free lost its worker
 * (killed, crashed): send its job again. Jobs are idempotent and check their
 * operation under the lock, so a late retry of the old job does nothing.
 */
export async function resumeInterruptedJobs(svc: Services): Promise<number> {
  const running = await svc.db.select().from(operations).where(eq(operations.status, "running"));
  let resumed = 0;
  for (const op of running) {
    if (!op.branchId || !(await isBranchIdle(svc, op.branchId)) || !resumeNow(op.id)) continue;
    const job = await jobFor(svc, op);
    if (op.failuresCount + 1 >= MAX_RESUMES || !job) {
      const cause = op.error ? ` (last error: ${op.error})` : "";
      const message = `Gave up after ${op.failuresCount + 1} interrupted attempts of ${op.action}${cause}; delete the branch or start anonymization again`;
      const [failed] = await svc.db
        .update(operations)
        .set({ status: "failed", error: message, finishedAt: new Date(), updatedAt: new Date() })
        .where(and(eq(operations.id, op.id), eq(operations.status, "running")))
        .returning();
      if (failed && op.action !== "delete_timeline") {
        await setAnonState(svc.db, op.branchId, op.action === "create_branch" ? "initialization_error" : "error", message);
      }
      continue;
    }
    await svc.db.transaction(async (tx) => {
      const [claimed] = await tx
        .update(operations)
        .set({ status: "scheduling", failuresCount: sql`${operations.failuresCount} + 1`, retryAt: new Date(), updatedAt: new Date() })
        .where(and(eq(operations.id, op.id), eq(operations.status, "running")))
        .returning();
      if (!claimed) return;
      await enqueueJob(svc, tx, job.queue, job.data);
      resumed += 1;
    });
  }
  if (resumed > 0) svc.log.warn("resumed interrupted jobs", { count: resumed });
  return resumed;
}

/**
 * Branch roles are NOLOGIN outside login windows (src/dataplane/login.ts). A
 * process that died with a window open leaves its role able to log in (until
 * VALID UNTIL, a minute later, for password logins): close such windows on
 * every server, and any role of an older version of anonbranch that could
 * still log in directly.
 */
export async function closeStrayLoginWindows(svc: Services): Promise<number> {
  const recent = new Date(Date.now() - 24 * 3600_000);
  const rows = await svc.db
    .select({ projectId: branches.projectId, branchId: branches.id, sourceUri: projects.sourceUriEncrypted })
    .from(branches)
    .innerJoin(projects, eq(projects.id, branches.projectId))
    .where(and(isNotNull(branches.roleName), or(isNull(branches.deletedAt), gt(branches.deletedAt, recent)), isNull(projects.deletedAt)));
  const byProject = new Map<string, { sourceUri: string; prefixes: string[] }>();
  for (const r of rows) {
    const entry = byProject.get(r.projectId) ?? { sourceUri: r.sourceUri, prefixes: [] };
    entry.prefixes.push(branchRolePrefix(r.branchId));
    byProject.set(r.projectId, entry);
  }
  let closed = 0;
  for (const [projectId, { sourceUri, prefixes }] of byProject) {
    try {
      const names = await withDataPlane(await svc.secrets.open(sourceUri), null, (admin) => closeStrayWindows(admin, prefixes));
      if (names.length > 0) svc.log.warn("closed login windows left open", { project_id: projectId, roles: names });
      closed += names.length;
    } catch (error) {
      svc.log.warn("cannot check branch roles' logins", { project_id: projectId, error: describeError(error) });
    }
  }
  return closed;
}
