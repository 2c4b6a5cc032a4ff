// delete job: drop the branch's databases (WITH FORCE) and its role.
// Idempotent: what is already gone is skipped.
import type { Services } from "../control/context.ts";
import { dropDatabase } from "../dataplane/clone.ts";
import { describeError, withDataPlane } from "../dataplane/connection.ts";
import { dropBranchRoles } from "../dataplane/roles.ts";
import { noteRetry, setOperation } from "./branch-state.ts";
import { loadJobContext } from "./job-context.ts";
import type { DeleteBranchJob } from "./queues.ts";
import { runBranchJob } from "./operations.ts";

/** Waits for any job on the branch to end (the lock), so nothing is recreated after the drop. */
export const runDeleteBranch = (svc: Services, job: DeleteBranchJob): Promise<void> => runBranchJob(svc, job, deleteBranch);

async function deleteBranch(svc: Services, job: DeleteBranchJob): Promise<void> {
  const ctx = await loadJobContext(svc, job.branchId);
  if (!ctx || ctx.branch.isDefault) {
    await setOperation(svc.db, job.operationId, "finished");
    return;
  }
  await setOperation(svc.db, job.operationId, "running");
  try {
    await withDataPlane(ctx.sourceUri, null, async (admin) => {
      for (const d of ctx.databases) await dropDatabase(admin, d.physicalName);
      if (ctx.roles) await dropBranchRoles(admin, ctx.roles);
    });
    await setOperation(svc.db, job.operationId, "finished");
  } catch (error) {
    // Dropping what exists is always the right thing to retry: the operation
    // stays running (pg-boss retries with backoff; maintenance bounds it).
    const message = `Deleting branch ${ctx.branch.id} failed: ${describeError(error)}`;
    await noteRetry(svc, ctx.branch.id, job.operationId, message);
    throw new Error(message, { cause: error });
  }
}
