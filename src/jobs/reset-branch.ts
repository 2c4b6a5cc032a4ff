// reset_to_parent job: re-clone the branch from its parent and mask it again,
// keeping id, name, role and password. Labels set over SQL since the last run
// are folded into the stored rules first, checked like a developer's rules
// (src/control/label-import.ts) before the masked copy is dropped.
import { eq } from "drizzle-orm";
import type { Services } from "../control/context.ts";
import { branches } from "../db/schema.ts";
import { databaseExists, dropDatabase } from "../dataplane/clone.ts";
import { describeError, withDataPlane } from "../dataplane/connection.ts";
import { anonymizeBranch, checkedRules } from "./anonymize-branch.ts";

import { failWork, setAnonState, setOperation, setStatus } from "./branch-state.ts";
import { initialize } from "./create-branch.ts";
import { loadJobContext } from "./job-context.ts";
import { runBranchJob } from "./operations.ts";
import type { ResetBranchJob } from "./queues.ts";

export const runResetBranch = (svc: Services, job: ResetBranchJob): Promise<void> => runBranchJob(svc, job, resetBranch);

async function resetBranch(svc: Services, job: ResetBranchJob): Promise<void> {
  const ctx = await loadJobContext(svc, job.branchId);
  if (!ctx || ctx.branch.deletedAt) {
    await setOperation(svc.db, job.operationId, "finished");
    return;
  }
  await setOperation(svc.db, job.operationId, "running");
  try {
    const { sourceUri, databases } = ctx;
    const existing = await withDataPlane(sourceUri, null, async (admin) => {
      const found = [];
      for (const d of databases) if (await databaseExists(admin, d.physicalName)) found.push(d);
      return found;
    });
    if (existing.length > 0) {
      // Labels are checked (and stored) before anything is dropped: a refused one leaves the
      // masked copy as it is. A resumed reset may find the databases already gone: then the
      // rules are already stored.
      await checkedRules(svc, { ...ctx, databases: existing }, job.runId);
      await setStatus(svc, job.branchId, "Resetting to parent: dropping the branch's databases");
      await withDataPlane(sourceUri, null, async (admin) => {
        for (const d of existing) await dropDatabase(admin, d.physicalName);
      });
    }
    const failure = await initialize(svc, ctx);
    if (failure) {
      await failWork(svc, job, "initialization_error", failure);
      return;
    }
    await setAnonState(svc.db, ctx.branch.id, "initialized", "Reset: databases cloned again from the parent");
    await svc.db.update(branches).set({ lastResetAt: new Date() }).where(eq(branches.id, ctx.branch.id));
  } catch (error) {
    const message = `Reset to parent failed: ${describeError(error)}`;
    await failWork(svc, job, "error", message);
    return;
  }
  await anonymizeBranch(svc, job);
}
