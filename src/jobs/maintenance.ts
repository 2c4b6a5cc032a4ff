// The maintenance job, every few seconds through pg-boss (a `short` queue keeps
// exactly one queued, however many workers run): delete expired branches and
// resume jobs whose worker died.
import { and, eq, isNotNull, isNull, lte, sql } from "drizzle-orm";
import type { Principal, Services } from "../control/context.ts";
import { deleteBranchInTx } from "../control/branches.ts";
import { recordAudit } from "../control/audit.ts";
import { anonymizationRuns, branches, operations } from "../db/schema.ts";
import { bossDb } from "./boss-db.ts";
import { isBranchIdle } from "./branch-lock.ts";
import { jobOptions, queues } from "./queues.ts";
import { setAnonState } from "./branch-state.ts";

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

type Operation = typeof operations.$inferSelect;

async function jobFor(svc: Services, op: Operation): Promise<{ queue: string; data: object } | null> {
  const [run] = await svc.db.select({ id: anonymizationRuns.id }).from(anonymizationRuns).where(eq(anonymizationRuns.operationId, op.id));
  const base = { branchId: op.branchId!, operationId: op.id };
  switch (op.action) {
    case "create_branch":
      return { queue: queues.createBranch, data: { ...base, runId: run?.id ?? null } };
    case "anonymize_branch":
      return run ? { queue: queues.anonymizeBranch, data: { ...base, runId: run.id } } : null;
    case "reset_to_parent":
      return run ? { queue: queues.resetBranch, data: { ...base, runId: run.id } } : null;
    case "delete_timeline":
      return { queue: queues.deleteBranch, data: base };
    default:
      return null;
  }
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
    if (!op.branchId || !(await isBranchIdle(svc, op.branchId))) continue;
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
      await svc.boss.send(job.queue, job.data, { ...jobOptions, db: bossDb(tx) });
      resumed += 1;
    });
  }
  if (resumed > 0) svc.log.warn("resumed interrupted jobs", { count: resumed });
  return resumed;
}
