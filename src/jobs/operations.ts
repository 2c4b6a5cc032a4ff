// How every branch job runs: under the branch's lock, only while its
// operation is still pending (a retry after success, or a duplicate, does
// nothing), holding a slot of its data-plane server (server-slots.ts), with a
// lost server rescheduled (outage.ts) and other transient failures noted and
// thrown back to pg-boss.
import { setTimeout as sleep } from "node:timers/promises";
import { eq } from "drizzle-orm";
import type { Services } from "../control/context.ts";
import { operations } from "../db/schema.ts";
import { withBranchLock } from "./branch-lock.ts";
import { isConnectionFailure } from "../lib/errors.ts";
import { noteRetry, TransientFailure } from "./branch-state.ts";
import { retryAfterOutage } from "./outage.ts";
import { jobFor } from "./job-for.ts";
import { jobOptions } from "./queues.ts";
import { Requeue, withServerSlot } from "./server-slots.ts";

export async function operationPending(svc: Services, operationId: string): Promise<boolean> {
  return (await pendingOperation(svc, operationId)) !== null;
}

async function pendingOperation(svc: Services, operationId: string) {
  const [op] = await svc.db
    .select({ id: operations.id, status: operations.status, projectId: operations.projectId, action: operations.action, retryAt: operations.retryAt })
    .from(operations)
    .where(eq(operations.id, operationId));
  return op && (op.status === "scheduling" || op.status === "running") ? op : null;
}

export async function runBranchJob<J extends { branchId: string; operationId: string }>(
  svc: Services,
  job: J,
  work: (svc: Services, job: J) => Promise<void>,
): Promise<void> {
  try {
    await withBranchLock(svc, job.branchId, async (conn) => {
      const op = await pendingOperation(svc, job.operationId);
      if (!op) return;
      // Rescheduled after an outage: back off until retry_at (at most 30 s, see outage.ts).
      const wait = op.retryAt ? op.retryAt.getTime() - Date.now() : 0;
      if (wait > 0) await sleep(Math.min(wait, 60_000));
      try {
        await withServerSlot(svc, conn, op, () => work(svc, job));
      } catch (error) {
        if (error instanceof TransientFailure && !isConnectionFailure(error)) await noteRetry(svc, job.branchId, job.operationId, error.message);
        throw error;
      }
    });
  } catch (error) {
    if (error instanceof Requeue) return requeue(svc, job.operationId, error.afterSeconds);
    // A server went away (a restart, a network cut): not the job's fault.
    if (!isConnectionFailure(error)) throw error;
    await retryAfterOutage(svc, job, error);
  }
}

/** Sends the operation's job again, to run after `afterSeconds`. */
async function requeue(svc: Services, operationId: string, afterSeconds: number): Promise<void> {
  const [op] = await svc.db.select().from(operations).where(eq(operations.id, operationId));
  const next = op && (await jobFor(svc, op));
  if (next) await svc.boss.send(next.queue, next.data, { ...jobOptions, startAfter: afterSeconds });
}
