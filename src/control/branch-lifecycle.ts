// Changing a branch after creation: PATCH (name, expiry, protection) and
// reset_to_parent (beyond Neon: re-clone and re-mask, keeping credentials).
import { enqueueJob } from "../jobs/enqueue.ts";
import { and, eq, isNull, ne } from "drizzle-orm";
import { anonymizationRuns, branches, operations } from "../db/schema.ts";
import { queues, type ResetBranchJob } from "../jobs/queues.ts";
import { conflict, invalid } from "../lib/errors.ts";
import { newOperationId } from "../lib/ids.ts";
import { assertBranchIdle, branchExpiry, loadBranch, loadProject, requireAdmin } from "./access.ts";
import { recordAudit } from "./audit.ts";
import type { Principal, Services } from "./context.ts";
import { presentBranch, presentOperation } from "./present.ts";

export interface UpdateBranchInput {
  name?: string;
  /** RFC 3339, or null to make the branch permanent (not for ci principals). */
  expires_at?: string | null;
  protected?: boolean;
}

export async function updateBranch(svc: Services, principal: Principal, projectId: string, branchId: string, input: UpdateBranchInput) {
  await loadProject(svc.db, principal, projectId);
  return svc.db.transaction(async (tx) => {
    const branch = await loadBranch(tx, projectId, branchId, { forUpdate: true });
    if (branch.isDefault) requireAdmin(principal);
    const changes: Partial<typeof branches.$inferInsert> = { updatedAt: new Date() };
    if (input.name !== undefined && input.name !== branch.name) {
      if (branch.isDefault) throw invalid("branch.name: the default branch keeps its name");
      const [clash] = await tx
        .select({ id: branches.id })
        .from(branches)
        .where(and(eq(branches.projectId, projectId), eq(branches.name, input.name), isNull(branches.deletedAt), ne(branches.id, branch.id)));
      if (clash) throw conflict(`branch.name: a branch named "${input.name}" already exists (${clash.id})`, "BRANCH_NAME_TAKEN");
      changes.name = input.name;
    }
    if (input.expires_at !== undefined) {
      if (branch.isDefault) throw invalid("branch.expires_at: the default branch cannot expire");
      const requested = input.expires_at === null ? null : new Date(input.expires_at);
      if (requested === null && principal.role === "ci") throw invalid("branch.expires_at: ci keys cannot remove a branch's expiry");
      changes.expiresAt = requested === null ? null : branchExpiry(principal, requested, svc.config);
    }
    if (input.protected !== undefined) changes.protected = input.protected;
    const [updated] = await tx.update(branches).set(changes).where(eq(branches.id, branch.id)).returning();
    await recordAudit(tx, principal, {
      action: "branch.update",
      projectId,
      branchId: branch.id,
      before: { name: branch.name, expires_at: branch.expiresAt, protected: branch.protected },
      after: { name: updated!.name, expires_at: updated!.expiresAt, protected: updated!.protected },
    });
    return { branch: presentBranch(updated!), operations: [] };
  });
}

/** Re-clones an anonymized branch from its parent and masks it again with its rules. */
export async function resetToParent(svc: Services, principal: Principal, projectId: string, branchId: string) {
  await loadProject(svc.db, principal, projectId);
  return svc.db.transaction(async (tx) => {
    const branch = await loadBranch(tx, projectId, branchId, { forUpdate: true });
    if (branch.anonState === null) throw invalid(`branch ${branchId} is not an anonymized branch; only those can be reset here`);
    await assertBranchIdle(tx, branch.id);
    if (branch.anonState === "created" || branch.anonState === "initialization_error") {
      throw conflict(`branch ${branchId} is ${branch.anonState}; it has nothing to reset yet`, "INVALID_STATE");
    }
    const [operation] = await tx
      .insert(operations)
      .values({ id: newOperationId(), projectId, branchId: branch.id, action: "reset_to_parent" })
      .returning();
    const [run] = await tx
      .insert(anonymizationRuns)
      .values({ branchId: branch.id, operationId: operation!.id, triggeredBy: principal.id, triggeredByUsername: principal.name, triggeredByRole: principal.role })
      .returning();
    const job: ResetBranchJob = { branchId: branch.id, operationId: operation!.id, runId: run!.id };
    await enqueueJob(svc, tx, queues.resetBranch, job);
    await recordAudit(tx, principal, { action: "branch.reset_to_parent", projectId, branchId: branch.id });
    // Back to the start of the lifecycle: not connectable until masked again.
    const now = new Date();
    const [resetting] = await tx
      .update(branches)
      .set({
        anonState: "created",
        statusMessage: "Waiting for a worker to reset the branch to its parent",
        currentState: "init",
        stateChangedAt: now,
        failedAt: null,
        updatedAt: now,
      })
      .where(eq(branches.id, branch.id))
      .returning();
    return { branch: presentBranch(resetting!), operations: [presentOperation(operation!)] };
  });
}
