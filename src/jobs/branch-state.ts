// State changes of branches, runs and operations made by the worker. The end
// of a piece of work (finishWork) changes all three in one transaction, so a
// reader never sees a branch `anonymized` whose run or operation is not done.
import { eq } from "drizzle-orm";
import type { Services } from "../control/context.ts";
import type { Db, Tx } from "../db/client.ts";
import { anonymizationRuns, branches, operations, type AnonymizationState } from "../db/schema.ts";

type Executor = Db | Tx;
type BranchChanges = Partial<typeof branches.$inferInsert>;
type RunChanges = Partial<typeof anonymizationRuns.$inferInsert>;

export async function setStatus(svc: Services, branchId: string, statusMessage: string): Promise<void> {
  await svc.db.update(branches).set({ statusMessage, updatedAt: new Date() }).where(eq(branches.id, branchId));
}

export async function setAnonState(
  db: Executor,
  branchId: string,
  anonState: AnonymizationState,
  statusMessage: string,
  extra: BranchChanges = {},
): Promise<void> {
  const failed = anonState === "error" || anonState === "initialization_error";
  await db
    .update(branches)
    .set({ anonState, statusMessage, failedAt: failed ? new Date() : null, updatedAt: new Date(), ...extra })
    .where(eq(branches.id, branchId));
}

export async function setOperation(db: Executor, operationId: string, status: "running" | "finished" | "failed", error?: string): Promise<void> {
  const now = new Date();
  await db
    .update(operations)
    .set({ status, updatedAt: now, ...(status === "running" ? {} : { finishedAt: now }), ...(error ? { error } : {}) })
    .where(eq(operations.id, operationId));
}

export async function setRun(db: Executor, runId: string, values: RunChanges): Promise<void> {
  await db.update(anonymizationRuns).set(values).where(eq(anonymizationRuns.id, runId));
}

/** A failure worth retrying (see isTransient); the job is thrown back to pg-boss. */
export class TransientFailure extends Error {}

/**
 * A transient failure: the operation stays running with the cause noted, and
 * the caller rethrows so pg-boss retries with backoff (bounded; the
 * maintenance job fails the operation after repeated interruptions).
 */
export async function noteRetry(svc: Services, branchId: string, operationId: string, message: string): Promise<void> {
  await svc.db.transaction(async (tx) => {
    await tx.update(operations).set({ error: message, updatedAt: new Date() }).where(eq(operations.id, operationId));
    await tx
      .update(branches)
      .set({ statusMessage: `Will retry: ${message}`, updatedAt: new Date() })
      .where(eq(branches.id, branchId));
  });
}

export interface Outcome {
  branchId: string;
  anonState: AnonymizationState;
  statusMessage: string;
  branch?: BranchChanges;
  operationId: string;
  /** Set when the work was an anonymization run. */
  runId?: string;
  run?: RunChanges;
  /** The failure message; absent on success. */
  error?: string;
}

/** A job's failure: branch in `anonState` with the message, run and operation failed. */
export async function failWork(
  svc: Services,
  job: { branchId: string; operationId: string; runId?: string | undefined },
  anonState: "error" | "initialization_error",
  message: string,
): Promise<void> {
  await finishWork(svc, {
    branchId: job.branchId,
    anonState,
    statusMessage: message,
    operationId: job.operationId,
    ...(job.runId ? { runId: job.runId } : {}),
    error: message,
  });
}

/** Records how a piece of work ended: branch state, run and operation, atomically. */
export async function finishWork(svc: Services, o: Outcome): Promise<void> {
  await svc.db.transaction(async (tx) => {
    await setAnonState(tx, o.branchId, o.anonState, o.statusMessage, o.branch);
    if (o.runId) {
      await setRun(tx, o.runId, { completedAt: new Date(), ...(o.error ? { status: "failed", error: o.error } : {}), ...o.run });
    }
    await setOperation(tx, o.operationId, o.error ? "failed" : "finished", o.error);
  });
}
