// How every branch job runs: under the branch's lock, only while its
// operation is still pending (a retry after success, or a duplicate, does
// nothing), and with transient failures noted and thrown back to pg-boss.
import { eq } from "drizzle-orm";
import type { Services } from "../control/context.ts";
import { operations } from "../db/schema.ts";
import { withBranchLock } from "./branch-lock.ts";
import { noteRetry, TransientFailure } from "./branch-state.ts";

export async function operationPending(svc: Services, operationId: string): Promise<boolean> {
  const [op] = await svc.db.select({ status: operations.status }).from(operations).where(eq(operations.id, operationId));
  return op !== undefined && (op.status === "scheduling" || op.status === "running");
}

export async function runBranchJob<J extends { branchId: string; operationId: string }>(
  svc: Services,
  job: J,
  work: (svc: Services, job: J) => Promise<void>,
): Promise<void> {
  await withBranchLock(svc, job.branchId, async () => {
    if (!(await operationPending(svc, job.operationId))) return;
    try {
      await work(svc, job);
    } catch (error) {
      if (error instanceof TransientFailure) await noteRetry(svc, job.branchId, job.operationId, error.message);
      throw error;
    }
  });
}
