// Anonymization runs: start one, report status.
import { enqueueJob } from "../jobs/enqueue.ts";
import { desc, eq } from "drizzle-orm";
import { anonymizationRuns, branches, operations } from "../db/schema.ts";
import { queues, type AnonymizeBranchJob } from "../jobs/queues.ts";
import { conflict, invalid, locked } from "../lib/errors.ts";
import { newOperationId } from "../lib/ids.ts";
import { assertBranchIdle, loadBranch, loadBranchView, loadProject, type BranchView } from "./access.ts";
import { memoized } from "../lib/memo.ts";
import type { Principal, Services } from "./context.ts";
import { presentAnonymizedStatus } from "./present.ts";
import { recordAudit } from "./audit.ts";

async function latestRun(db: Services["db"], branchId: string) {
  const [run] = await db
    .select()
    .from(anonymizationRuns)
    .where(eq(anonymizationRuns.branchId, branchId))
    .orderBy(desc(anonymizationRuns.createdAt))
    .limit(1);
  return run;
}

export async function getAnonymizedStatus(svc: Services, principal: Principal, projectId: string, branchId: string) {
  const view = await loadBranchView(svc, principal, projectId, branchId);
  if (view.branch.anonState === null) throw invalid(`branch ${branchId} is not an anonymized branch`, "NOT_ANONYMIZED_BRANCH");
  return statusOf(view);
}

/** Presented once per row the read cache serves (src/lib/memo.ts). */
const statusOf = memoized((view: BranchView) => presentAnonymizedStatus(view.branch, view.run));

/** Starts a run from initialized, error or anonymized; masks the branch's current data. */
export async function startAnonymization(svc: Services, principal: Principal, projectId: string, branchId: string) {
  await loadProject(svc.db, principal, projectId);
  const branch = await svc.db.transaction(async (tx) => {
    const b = await loadBranch(tx, projectId, branchId, { forUpdate: true });
    if (b.anonState === null) throw invalid(`branch ${branchId} is not an anonymized branch`, "NOT_ANONYMIZED_BRANCH");
    if (b.anonState === "anonymizing") throw locked(`branch ${branchId} is already being anonymized`);
    await assertBranchIdle(tx, b.id);
    if (b.anonState === "created" || b.anonState === "initialization_error") {
      throw conflict(
        `branch ${branchId} is ${b.anonState}; anonymization can start from initialized, error or anonymized`,
        "INVALID_STATE",
      );
    }
    const [operation] = await tx
      .insert(operations)
      .values({ id: newOperationId(), projectId, branchId: b.id, action: "anonymize_branch" })
      .returning();
    const [run] = await tx
      .insert(anonymizationRuns)
      .values({ branchId: b.id, operationId: operation!.id, triggeredBy: principal.id, triggeredByUsername: principal.name, triggeredByRole: principal.role })
      .returning();
    const [updated] = await tx
      .update(branches)
      .set({ anonState: "anonymizing", statusMessage: "Waiting for a worker to start anonymization", failedAt: null, updatedAt: new Date() })
      .where(eq(branches.id, b.id))
      .returning();
    const job: AnonymizeBranchJob = { branchId: b.id, operationId: operation!.id, runId: run!.id };
    await enqueueJob(svc, tx, queues.anonymizeBranch, job);
    await recordAudit(tx, principal, { action: "anonymization.start", projectId, branchId: b.id, after: { run_id: run!.id } });
    return updated!;
  });
  return presentAnonymizedStatus(branch, await latestRun(svc.db, branch.id));
}
